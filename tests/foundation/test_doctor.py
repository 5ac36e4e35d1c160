"""`deploybot doctor`: with nothing configured it names every missing piece with its fix; with the
test services up (Redis, the fake GitHub, dockerd, the registry, HAProxy) it finds them all."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from core.settings import Settings, unconfigured
from testkit.fakegithub.server import FakeGitHub
from tests.conftest import run_deploybot


def _doctor(env: dict[str, str]) -> tuple[int, dict[str, str], str]:
    """Exit status, each check's verdict and detail ("ok …" or "NO …"), and stderr; the human
    table must name each check the JSON does."""
    shown, done = run_deploybot("doctor", env=env), run_deploybot("doctor", "--json", env=env)
    assert shown.returncode == done.returncode
    checks = json.loads(done.stdout)["checks"]
    rows = [line.split() for line in shown.stdout.splitlines()]
    for check in checks:
        words = check["name"].split()
        verdict = "ok" if check["ok"] else "NO"
        assert [*words, verdict] in [row[: len(words) + 1] for row in rows], check
    found = {c["name"]: f"{'ok' if c['ok'] else 'NO'} {c['detail']}" for c in checks}
    return done.returncode, found, done.stderr


def _bare() -> dict[str, str]:
    return unconfigured(os.environ)


def test_with_nothing_configured_every_missing_piece_is_named_with_its_fix() -> None:
    env = {
        **_bare(),
        "DEPLOYBOT_REDIS_URL": "redis://127.0.0.1:1/0",
        "DOCKER_HOST": "unix:///nowhere",
    }
    code, found, err = _doctor(env)
    assert code == 1
    assert "cannot run without: webhook secret, redis" in err
    expected = {
        "webhook secret": "set DEPLOYBOT_WEBHOOK_SECRET",
        "redis": "start Redis or fix DEPLOYBOT_REDIS_URL",
        "redis password": "set requirepass",
        "github app": "set DEPLOYBOT_GITHUB_APP_ID and DEPLOYBOT_GITHUB_PRIVATE_KEY",
        "github api": "set the App id and key first",
        "docker": "start dockerd or point DOCKER_HOST at it",
        "registry": "set it to an OCI registry's host:port",
        "release base": "python:3.11-slim: no Docker engine to build on",
    }
    for name, fix in expected.items():
        assert found[name].startswith("NO"), (name, found[name])
        assert fix in found[name], (name, found[name])


@pytest.mark.docker
def test_with_the_test_services_up_every_one_answers(
    settings: Settings, github: FakeGitHub, registry_address: str, docker_client: Any
) -> None:
    configured = {
        **_bare(),
        **settings.environ(),
        "DEPLOYBOT_REGISTRY": registry_address,
    }
    code, found, err = _doctor(configured)
    assert code == 0, err
    for name in ("webhook secret", "redis", "github app", "docker", "registry", "haproxy", "git"):
        assert found[name].startswith("ok"), (name, found[name])
    assert found["release base"].startswith("ok offline: deploybot/base:bookworm"), found
    assert "authenticated as deploybot" in found["github api"]
    assert github.private_key_pem.splitlines()[1] not in str(found)  # the key never shows
