"""Shared pieces of the worker tests: a remote repository, a worker app, and waiting on GitHub."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import redis
from celery import Celery

from core import contract
from core.settings import Settings
from testkit.fakegithub.server import FakeGitHub
from testkit.fakegithub.state import Pull
from testkit.gitrepo import GitRepo
from tests.conftest import Samples, counted, worker_samples
from workers import run_state
from workers.app import create_worker_app

REPO = "octo/app"
INSTALLATION = 7
# Stages run in their sandbox, where "python" is the stage virtualenv's (first on PATH).
PYTHON = "python"
WAIT_S = 90.0


def stage(
    name: str, argv: list[str], order: int, triggers: str = "[pr, release]", **extra: Any
) -> str:
    """One stage of a test matrix, in YAML (argv as a flow list of quoted strings)."""
    command = ", ".join(_quote(a) for a in argv)
    lines = [
        f"  - name: {name}",
        f"    command: [{command}]",
        f"    triggers: {triggers}",
        "    timeout_s: 120",
        f"    order: {order}",
    ]
    lines += [f"    {key}: {value}" for key, value in extra.items()]
    return "\n".join(lines) + "\n"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def python_stage(name: str, code: str, order: int, **extra: Any) -> str:
    return stage(name, [PYTHON, "-c", code], order, **extra)


def matrix(*stages: str) -> str:
    return "stages:\n" + "".join(stages)


@dataclass
class Remote:
    """A repository the worker fetches over file://, standing in for github.com/octo/app."""

    repo: GitRepo

    def commit(self, files: dict[str, str], message: str = "change") -> str:
        return self.repo.commit(files, message)

    def branch(self, name: str) -> None:
        self.repo.git("checkout", "--quiet", "-B", name)


def make_remote(root: Path, name: str = REPO) -> Remote:
    return Remote(GitRepo.create(root / name))


def worker_settings(settings: Settings, remotes: Path) -> Settings:
    return replace(settings, git_url=remotes.as_uri() + "/{repo}")


def connected(
    github: FakeGitHub, settings: Settings, root: Path, **overrides: Any
) -> tuple[Remote, Celery]:
    """The repository known to GitHub, its remote under root, and a worker app fetching from it."""
    github.add_repo(REPO, INSTALLATION)
    remote = make_remote(root / "remotes")
    app = create_worker_app(replace(worker_settings(settings, root / "remotes"), **overrides))
    return remote, app


def add_pull(github: FakeGitHub, number: int, sha: str, files: list[str], **extra: Any) -> None:
    listed = [{"filename": f, "status": "modified", "sha": "0" * 40} for f in files]
    github.add_pull(REPO, Pull(number=number, head_sha=sha, files=listed, **extra))


def send_pipeline(app: Celery, number: int, sha: str, delivery_id: str | None = None) -> str:
    delivery = delivery_id or str(uuid.uuid4())
    message = contract.RunPipeline(
        installation_id=INSTALLATION, repo=REPO, pr_number=number, sha=sha, delivery_id=delivery
    )
    contract.send(app, message)
    return delivery


def wait_for(what: str, ready: Callable[[], bool], timeout_s: float = WAIT_S) -> None:
    """Poll until ready() (the worker runs in the background); fail with `what` if it never is."""
    deadline = time.monotonic() + timeout_s
    while not ready():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def runs_for(github: FakeGitHub, sha: str) -> dict[str, dict[str, Any]]:
    """The check runs on `sha` by name (the newest run of each name)."""
    return {r["name"]: r for r in github.check_runs() if r["head_sha"] == sha}


def idle(client: redis.Redis) -> bool:
    """No pipeline is running or waiting to be resumed."""
    return not client.hlen(run_state.ACTIVE) and not any(client.llen(q) for q in contract.QUEUES)


def jobs_ended(before: Samples, task: str) -> int:
    """How many jobs of `task` this process's workers ended (succeeded or failed; a retry is no
    end) since `before` (worker_samples() then): what a step that needs a job done waits for."""
    after = worker_samples()
    return int(
        sum(
            counted(before, after, "deploybot_jobs_total", task=task, outcome=outcome)
            for outcome in ("succeeded", "failed")
        )
    )


def settled(github: FakeGitHub, client: redis.Redis, sha: str, count: int) -> Callable[[], bool]:
    """`count` check runs on `sha`, all completed, and no pipeline left running."""

    def check() -> bool:
        runs = [r for r in github.check_runs() if r["head_sha"] == sha]
        return len(runs) == count and all(r["status"] == "completed" for r in runs) and idle(client)

    return check


ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def celery_worker(settings: Settings, name: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`celery worker` in a process group of its own, configured only through DEPLOYBOT_*."""
    queues = ",".join(contract.QUEUES)
    argv = [sys.executable, "-m", "celery", "--app", "workers.app:celery_app", "worker"]
    argv += ["--pool", "threads", "--concurrency", "2", "--queues", queues, "--hostname", name]
    argv += ["--without-gossip", "--without-mingle", "--loglevel", "INFO"]
    with process_group(argv, settings, log) as proc:
        yield proc


@contextmanager
def process_group(
    argv: list[str], settings: Settings, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """`argv` in a process group of its own, configured only through `settings`' DEPLOYBOT_*
    variables, its output appended to `log`; stopped with everything it started."""
    env = settings.child_environ()
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
