"""A real Docker engine builds an image locally (no pulls), runs it on loopback, and stops it."""

from __future__ import annotations

import shutil
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from testkit.loopback import free_port

pytestmark = [pytest.mark.docker]

DOCKERFILE = """\
FROM scratch
COPY busybox /bin/busybox
COPY index.html /www/index.html
ENTRYPOINT ["/bin/busybox"]
"""


def test_build_start_serve_and_stop_a_local_image(docker_client: Any, tmp_path: Path) -> None:
    busybox = shutil.which("busybox")
    if busybox is None:
        pytest.skip(
            "busybox (a static build: apt-get install busybox-static) is needed for this image"
        )
    context = tmp_path / "image"
    context.mkdir()
    shutil.copy(busybox, context / "busybox")
    (context / "index.html").write_text("served from a local image\n")
    (context / "Dockerfile").write_text(DOCKERFILE)
    image, _ = docker_client.images.build(
        path=str(context), tag="deploybot-test/busybox:local", rm=True
    )

    port = free_port()
    container = docker_client.containers.run(
        image.id,
        ["httpd", "-f", "-p", f"127.0.0.1:{port}", "-h", "/www"],
        detach=True,
        network_mode="host",
        labels={"deploybot.test": "foundation"},
    )
    try:
        body = _get_with_retry(f"http://127.0.0.1:{port}/index.html")
        assert body == "served from a local image\n"
    finally:
        container.stop(timeout=2)
        container.reload()
        state = container.attrs["State"]
        container.remove()
    assert state["Running"] is False
    assert port_closed(port)


def _get_with_retry(url: str, attempts: int = 50) -> str:
    for _ in range(attempts):
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback URL)
                return str(response.read().decode())
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{url} never answered")


def port_closed(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0
