"""A worker SIGKILLed in the middle of a stage: the next worker finishes every check run."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
import redis

from core.settings import Settings
from testkit.fakegithub.server import FakeGitHub
from tests.workers.harness import (
    INSTALLATION,
    REPO,
    add_pull,
    celery_worker,
    make_remote,
    matrix,
    python_stage,
    runs_for,
    send_pipeline,
    settled,
    wait_for,
    worker_settings,
)
from workers.app import create_worker_app


@pytest.mark.slow
def test_sigkill_mid_stage_leaves_no_check_run_in_progress(
    github: FakeGitHub, settings: Settings, redis_client: redis.Redis, tmp_path: Path
) -> None:
    github.add_repo(REPO, INSTALLATION)
    remote = make_remote(tmp_path / "remotes")
    stages = matrix(
        python_stage("hold", "import time; time.sleep(4)", 0),
        python_stage("after", "print('after')", 1),
    )
    sha = remote.commit({"data/ci-matrix.yaml": stages})
    add_pull(github, 3, sha, ["data/ci-matrix.yaml"])
    configured = worker_settings(settings, tmp_path / "remotes")
    log = tmp_path / "workers.log"

    with celery_worker(configured, "first@test", log) as first:
        send_pipeline(create_worker_app(configured), 3, sha)
        wait_for(
            "the first worker to start the stage",
            lambda: runs_for(github, sha).get("deploybot/hold", {}).get("status") == "in_progress",
        )
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()

    assert runs_for(github, sha)["deploybot/hold"]["status"] == "in_progress"
    with celery_worker(configured, "second@test", log):
        wait_for("the second worker to finish", settled(github, redis_client, sha, 2), 120)

    runs = runs_for(github, sha)
    assert {name: run["conclusion"] for name, run in runs.items()} == {
        "deploybot/hold": "success",
        "deploybot/after": "success",
    }
    assert runs["deploybot/hold"]["history"] == ["queued", "in_progress", "completed"]
