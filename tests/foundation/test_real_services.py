"""The suite's real parts work: Redis, a Celery worker thread on it, git repositories."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import redis
from celery import Celery

from testkit.gitrepo import GitRepo
from tests.conftest import WorkerFactory


def test_celery_worker_runs_a_task_through_real_redis(
    celery_app: Celery, start_worker: WorkerFactory, redis_client: redis.Redis
) -> None:
    @celery_app.task(name="tests.record", shared=False)
    def record(value: str) -> str:
        redis_client.rpush("tests:recorded", value)
        return value.upper()

    with start_worker(celery_app):
        result = record.delay("hola")
        assert result.get(timeout=20) == "HOLA"
    assert redis_client.lrange("tests:recorded", 0, -1) == [b"hola"]
    # The message really went through the broker on this Redis, not an in-process shortcut.
    assert redis_client.info("stats")["total_commands_processed"] > 0


def test_git_repo_can_be_fetched_at_an_exact_sha(
    git_repo: Callable[[str], GitRepo], tmp_path: Path
) -> None:
    origin = git_repo("origin")
    first = origin.commit({"README.md": "one\n"}, "first")
    origin.commit({"README.md": "two\n"}, "second")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", origin.url, str(clone)], check=True)
    subprocess.run(["git", "-C", str(clone), "checkout", "--quiet", first], check=True)
    assert (clone / "README.md").read_text() == "one\n"
