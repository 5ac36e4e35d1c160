"""`deploybot worker --ping`, the worker's health check in the compose file: 0 once both of this
host's workers (the main one and the rollbacks one) answer through the broker, 1 naming the one
that does not."""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
from pathlib import Path

import pytest

from core.settings import Settings
from tests.conftest import run_deploybot
from tests.workers.harness import process_group


def _ping(settings: Settings) -> tuple[int, str]:
    done = run_deploybot("worker", "--ping", env=settings.child_environ(), timeout_s=60)
    return done.returncode, done.stdout + done.stderr


def test_the_ping_answers_only_while_both_workers_do(settings: Settings, tmp_path: Path) -> None:
    host = socket.gethostname()
    code, said = _ping(settings)
    assert code == 1
    assert f"no answer from celery@{host}, rollbacks@{host}" in said

    log = tmp_path / "worker.log"
    with process_group([sys.executable, "-m", "deploybot", "worker"], settings, log) as worker:
        deadline = time.monotonic() + 60
        while (found := _ping(settings))[0] != 0:
            if time.monotonic() > deadline:
                pytest.fail(f"the workers never answered: {found[1]}\n{log.read_text()[-3000:]}")
        assert f"celery@{host}, rollbacks@{host} answered" in found[1]
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
    code, said = _ping(settings)
    assert code == 1
    assert f"no answer from celery@{host}, rollbacks@{host}" in said
