"""A worker SIGKILLed in the middle of a stage: the next worker finishes every check run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis

from core import contract
from core.settings import Settings
from testkit.fakegithub.server import FakeGitHub
from tests.workers.harness import (
    INSTALLATION,
    REPO,
    add_pull,
    make_remote,
    matrix,
    python_stage,
    runs_for,
    send_pipeline,
    settled,
    wait_for,
    worker_app,
    worker_settings,
)

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def celery_worker(settings: Settings, name: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`celery worker` in a process group of its own, configured only through DEPLOYBOT_*."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DEPLOYBOT_")},
        "DEPLOYBOT_REDIS_URL": settings.redis_url,
        "DEPLOYBOT_GITHUB_APP_ID": str(settings.github_app_id),
        "DEPLOYBOT_GITHUB_PRIVATE_KEY": settings.github_private_key or "",
        "DEPLOYBOT_GITHUB_API_URL": settings.github_api_url,
        "DEPLOYBOT_DATA_DIR": str(settings.data_dir),
        "DEPLOYBOT_GIT_URL": settings.git_url or "",
    }
    queues = ",".join(contract.QUEUES)
    argv = [sys.executable, "-m", "celery", "--app", "workers.app:celery_app", "worker"]
    argv += ["--pool", "threads", "--concurrency", "2", "--queues", queues, "--hostname", name]
    argv += ["--without-gossip", "--without-mingle", "--loglevel", "INFO"]
    with log.open("ab") as out:
        proc = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=out, stderr=out, start_new_session=True
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


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
        send_pipeline(worker_app(configured), 3, sha)
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
