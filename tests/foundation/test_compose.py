"""The single-host install: docker-compose.yml is valid (Debian's docker-compose checks its schema
and interpolation; images cannot be pulled here), has every part, and refuses to start without
the Redis password."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[2]


def _config(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("docker-compose")
    if binary is None:
        message = "docker-compose is not installed (apt-get install docker-compose)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    shutil.copy(ROOT / "docker-compose.yml", tmp_path / "docker-compose.yml")
    (tmp_path / ".env").write_text("DEPLOYBOT_WEBHOOK_SECRET=from-the-env-file\n")
    clean = {k: v for k, v in os.environ.items() if k != "REDIS_PASSWORD"}
    return subprocess.run(
        [binary, "config"],
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
    assert set(services) == {"redis", "registry", "web", "worker", "beat", "proxy"}
    commands = {name: service.get("command") for name, service in services.items()}
    assert commands["web"][:2] == ["deploybot", "serve"]
    assert commands["worker"][:2] == ["deploybot", "worker"]
    assert commands["beat"] == ["deploybot", "beat"]
    assert commands["proxy"][:2] == ["deploybot", "proxy"]
    assert "--requirepass" in commands["redis"]
    assert "--appendonly" in commands["redis"]  # persisted
    web = services["web"]["environment"]
    assert web["DEPLOYBOT_REDIS_URL"] == "redis://:s3cret-for-the-test@127.0.0.1:6379/0"
    assert web["DEPLOYBOT_REGISTRY"] == "127.0.0.1:5000"
    assert any("/var/lib/deploybot" in str(v) for v in services["worker"]["volumes"])
    # The worker's Docker access is granted (and said so in the file).
    assert any("docker.sock" in str(v) for v in services["worker"]["volumes"])
    assert all(s.get("network_mode") == "host" for s in services.values())


def test_without_the_redis_password_it_refuses_and_says_what_to_set(tmp_path: Path) -> None:
    done = _config(tmp_path)
    assert done.returncode != 0
    assert "set REDIS_PASSWORD in .env" in done.stderr
