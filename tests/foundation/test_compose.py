"""The single-host install's files: docker-compose.yml (and its offline override) is valid
(Debian's docker-compose checks schema and interpolation), has every part with its health check,
takes its ports from the env file, and refuses to start without the Redis password. The stack
itself is started in tests/install."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy import places, proxy
from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[2]


def _config(tmp_path: Path, *files: str, **env: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("docker-compose")
    if binary is None:
        message = "docker-compose is not installed (apt-get install docker-compose)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    for name in ("docker-compose.yml", *files):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / ".env").write_text("DEPLOYBOT_WEBHOOK_SECRET=from-the-env-file\n")
    ports = ("WEB_PORT", "REDIS_PORT", "REGISTRY_PORT", "PROXY_HEALTH_PORT")
    clean = {k: v for k, v in os.environ.items() if k not in {"REDIS_PASSWORD", *ports}}
    chosen = [arg for name in ("docker-compose.yml", *files) for arg in ("-f", name)]
    return subprocess.run(
        [binary, *chosen, "config"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**clean, **env},
        timeout=60,
        check=False,
    )


def test_the_compose_file_is_valid_and_has_every_part(tmp_path: Path) -> None:
    done = _config(tmp_path, REDIS_PASSWORD="s3cret-for-the-test")
    assert done.returncode == 0, done.stderr
    config: dict[str, Any] = yaml.safe_load(done.stdout)
    services = config["services"]
    assert set(services) == {"redis", "registry", "web", "worker", "beat", "switch", "proxy"}
    commands = {name: service.get("command") for name, service in services.items()}
    assert commands["web"] == ["deploybot", "serve", "--host", "127.0.0.1", "--port", "8000"]
    assert commands["worker"][:2] == ["deploybot", "worker"]
    assert commands["beat"] == ["deploybot", "beat"]
    assert commands["switch"][:3] == ["deploybot", "proxy", "--attach"]
    # HAProxy on its own, exactly as `deploybot proxy` runs it, on the shared data directory.
    paths = places.proxy_paths(Path("/var/lib/deploybot"))
    assert commands["proxy"] == ["haproxy", *proxy.haproxy_argv(paths)[1:]]
    assert "deploybot" not in services["proxy"]["image"]  # an upgrade of deploybot leaves it be
    assert "--requirepass" in commands["redis"]
    assert "--appendonly" in commands["redis"]  # persisted
    web = services["web"]["environment"]
    assert web["DEPLOYBOT_REDIS_URL"] == "redis://:s3cret-for-the-test@127.0.0.1:6379/0"
    assert web["DEPLOYBOT_REGISTRY"] == "127.0.0.1:5000"
    # The status listener keeps its own default, on loopback: compose does not expose it.
    assert "DEPLOYBOT_STATUS_ADDR" not in web
    for name, service in services.items():
        assert service["restart"] == "unless-stopped", name
        if name != "beat":  # beat is its container's one process, restarted when it exits
            assert service["healthcheck"]["test"], name
    assert services["web"]["depends_on"] == {"redis": {"condition": "service_healthy"}}
    assert services["proxy"]["depends_on"] == {"switch": {"condition": "service_healthy"}}
    assert any("/var/lib/deploybot" in str(v) for v in services["worker"]["volumes"])
    # The worker's Docker access is granted (and said so in the file).
    assert any("docker.sock" in str(v) for v in services["worker"]["volumes"])
    assert all(s.get("network_mode") == "host" for s in services.values())


def test_ports_come_from_the_env_file(tmp_path: Path) -> None:
    done = _config(
        tmp_path,
        REDIS_PASSWORD="pw-for-the-test",
        WEB_PORT="18000",
        REDIS_PORT="16379",
        REGISTRY_PORT="15000",
        PROXY_HEALTH_PORT="18404",
    )
    assert done.returncode == 0, done.stderr
    services = yaml.safe_load(done.stdout)["services"]
    assert services["web"]["command"][-1] == "18000"
    assert "18000/readyz" in " ".join(services["web"]["healthcheck"]["test"])
    worker = services["worker"]["environment"]
    assert worker["DEPLOYBOT_REDIS_URL"] == "redis://:pw-for-the-test@127.0.0.1:16379/0"
    assert worker["DEPLOYBOT_REGISTRY"] == "127.0.0.1:15000"
    assert services["redis"]["command"][services["redis"]["command"].index("--port") + 1] == "16379"
    assert services["registry"]["environment"]["REGISTRY_HTTP_ADDR"] == "127.0.0.1:15000"
    assert services["switch"]["command"][-1] == "127.0.0.1:18404"
    assert "/dev/tcp/127.0.0.1/18404" in " ".join(services["proxy"]["healthcheck"]["test"])


def test_the_offline_override_builds_every_image_from_the_offline_base(tmp_path: Path) -> None:
    done = _config(tmp_path, "docker-compose.offline.yml", REDIS_PASSWORD="pw")
    assert done.returncode == 0, done.stderr
    services = yaml.safe_load(done.stdout)["services"]
    for name, service in services.items():
        assert "build" in service, name  # nothing is pulled
        assert service["image"].startswith(("deploybot/", "deploybot:")), name
    assert services["worker"]["environment"]["DEPLOYBOT_BASE_IMAGE"] == "offline"
    assert services["redis"]["command"] == _config_of(tmp_path)["redis"]["command"]


def _config_of(tmp_path: Path) -> dict[str, Any]:
    base = tmp_path / "base"
    base.mkdir()
    done = _config(base, REDIS_PASSWORD="pw")
    assert done.returncode == 0, done.stderr
    services: dict[str, Any] = yaml.safe_load(done.stdout)["services"]
    return services


def test_without_the_redis_password_it_refuses_and_says_what_to_set(tmp_path: Path) -> None:
    done = _config(tmp_path)
    assert done.returncode != 0
    assert "set REDIS_PASSWORD in .env" in done.stderr
