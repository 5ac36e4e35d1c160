"""The tutor image builds offline from the local base, stays small, and serves within seconds."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from core.settings import OFFLINE_BASE
from deploy import images
from testkit.loopback import free_port

pytestmark = [pytest.mark.docker, pytest.mark.slow]

MAX_IMAGE_BYTES = 400 * 1000 * 1000
HEALTHY_WITHIN_S = 3.0


def _request(url: str, body: dict[str, str] | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 (loopback URL)
        url, data=data, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        return response.status, json.loads(response.read())


def test_image_builds_serves_and_reports_its_digests(docker_client: Any) -> None:
    built = images.build_tutor("citest", base=OFFLINE_BASE, client=docker_client)
    print(f"tutor image {built.tag}: {built.size_bytes / 1e6:.0f} MB")
    assert built.size_bytes <= MAX_IMAGE_BYTES

    port = free_port()
    started = time.monotonic()
    container = docker_client.containers.run(
        built.tag,
        detach=True,
        network_mode="host",
        environment={"HOST": "127.0.0.1", "PORT": str(port)},
        labels={"deploybot.test": "tutor-image"},
    )
    try:
        healthy_after = None
        while time.monotonic() - started < 15:
            try:
                status, _ = _request(f"http://127.0.0.1:{port}/healthz")
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.05)
                continue
            if status == 200:
                healthy_after = time.monotonic() - started
                break
        print(f"container start -> /healthz 200 in {healthy_after}s")
        assert healthy_after is not None, container.logs().decode()[-2000:]
        assert healthy_after < HEALTHY_WITHIN_S

        status, answer = _request(
            f"http://127.0.0.1:{port}/check", {"sentence": "Ayer yo sabo la respuesta."}
        )
        assert status == 200
        assert set(answer) == {"verdict", "corrections", "model_version"}
        assert answer["model_version"].startswith("sha256:")
        assert answer["verdict"] == "incorrect"
        for correction in answer["corrections"]:
            assert set(correction) == {
                "original",
                "suggestion",
                "lemma",
                "tense",
                "person",
                "explanation",
            }

        _, version = _request(f"http://127.0.0.1:{port}/version")
        assert version["commit"] == "citest"
        assert version["model_digest"] == answer["model_version"]
        assert version["table_digest"].startswith("sha256:")
        container.reload()
        assert container.attrs["Config"]["User"] == "10001:10001"
    finally:
        container.remove(force=True)
