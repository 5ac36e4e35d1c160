"""The README's first command: the embedded demo plays a pull request from its first push to a
rollback, through HAProxy when it is installed and through the embedded switch when it is not."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from core.settings import unconfigured
from tests.conftest import run_deploybot

pytestmark = pytest.mark.slow


def _demo(*args: str, without_haproxy: bool = False) -> subprocess.CompletedProcess[str]:
    env = unconfigured(os.environ)
    if without_haproxy:  # every directory of PATH holding one (/sbin and /usr/sbin, say)
        kept = [p for p in env["PATH"].split(os.pathsep) if not (Path(p) / "haproxy").exists()]
        env["PATH"] = os.pathsep.join(kept)
    return run_deploybot("demo", *args, env=env, timeout_s=240)


def _steps(found: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {step["name"]: step for step in found["steps"]}


@pytest.mark.parametrize("without_haproxy", [False, True], ids=["haproxy", "embedded-switch"])
def test_demo_json_tells_the_story_of_a_deploy_and_a_rollback(without_haproxy: bool) -> None:
    if not without_haproxy and shutil.which("haproxy") is None:
        pytest.fail("HAProxy is not installed (.ci/run installs it)")
    done = _demo("--json", without_haproxy=without_haproxy)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    found = json.loads(done.stdout)  # alone on standard output: progress went to stderr
    assert found["ok"] is True
    assert all(step["ok"] for step in found["steps"])
    steps = _steps(found)
    first_ci = steps["GitHub delivers pull_request.opened (signed); the matrix runs"]["detail"]
    assert first_ci == "eval skipped, lint failure, test success"
    fixed = steps["the contributor shortens the line and pushes; the matrix runs again"]
    assert fixed["detail"] == "eval skipped, lint success, test success"
    assert found["served"] == {
        "after_deploy": found["deployed"],
        "after_rollback": found["previous"],
    }
    assert found["deployed"] != found["previous"]
    # One scrape: the pushes' four stages, the deploy's and rollback's flips, and the ledger's
    # two deploys (main's release, then the merge), one of them rolled back.
    counted = steps["GET /metrics: what the receiver and the worker counted"]["detail"]
    assert "4 stage runs, 2 flips; 7-day deploys 2, change failure rate 50%" in counted
    switch = steps["the traffic switch on the front port"]["detail"]
    assert ("embedded switch" in switch) is without_haproxy
    assert "GitHub ←" in done.stderr


def test_demo_prints_a_timeline_and_the_on_call_summary() -> None:
    done = _demo()
    out = done.stdout
    assert done.returncode == 0, out[-3000:] + done.stderr[-3000:]
    assert "annotation sample/greet.py:6 Line too long" in out
    assert "▶ /deploy: the merge commit built, staged, gated and deployed" in out
    assert "The on-call summary on pull request #1:" in out
    assert "**ROLLED BACK — demo is on `" in out
    assert "none was refused" in out
