"""A stage that says `needs: [docker]` reaches the worker's Docker engine from its sandbox, and
never runs for a fork, even after /ok-to-test."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import redis

from core import contract
from core.settings import Settings
from testkit.fakegithub.server import FakeGitHub
from tests.conftest import WorkerFactory
from tests.workers.harness import (
    INSTALLATION,
    REPO,
    add_pull,
    connected,
    matrix,
    runs_for,
    send_pipeline,
    settled,
    stage,
    wait_for,
)
from workers import run_state
from workers.ci import messages
from workers.ci.branch_records import default_branch
from workers.ci.planner import FORK_NEEDS_DOCKER

ENGINE = matrix(
    stage(
        "engine",
        ["docker", "version", "--format", "engine {{.Server.Version}}"],
        0,
        needs="[docker]",
    ),
    stage("plain", ["docker", "version"], 1),
)


@pytest.mark.docker
def test_a_docker_stage_reaches_the_engine_and_a_plain_one_does_not(
    docker_client: Any,
    github: FakeGitHub,
    settings: Settings,
    redis_client: redis.Redis,
    start_worker: WorkerFactory,
    tmp_path: Path,
) -> None:
    remote, app = connected(github, settings, tmp_path)
    sha = remote.commit({"data/ci-matrix.yaml": ENGINE})
    add_pull(github, 1, sha, ["data/ci-matrix.yaml"])
    with start_worker(app):
        send_pipeline(app, 1, sha)
        wait_for("both stages", settled(github, redis_client, sha, 2))
    runs = runs_for(github, sha)
    engine = runs["deploybot/engine"]
    assert engine["conclusion"] == "success", engine["output"]["summary"]
    assert f"engine {docker_client.version()['Version']}" in engine["output"]["summary"]
    plain = runs["deploybot/plain"]
    assert plain["conclusion"] == "failure"  # no socket: /run is the sandbox's own
    assert "docker.sock" in plain["output"]["summary"]


def test_a_docker_stage_never_runs_for_a_fork_even_when_approved(
    github: FakeGitHub,
    settings: Settings,
    redis_client: redis.Redis,
    start_worker: WorkerFactory,
    tmp_path: Path,
) -> None:
    remote, app = connected(github, settings, tmp_path)
    sha = remote.commit({"data/ci-matrix.yaml": ENGINE})
    add_pull(github, 2, sha, ["x.py"], head_repo="outsider/app", user="outsider")
    github.set_permission("octo/app", "outsider", "write")  # as if approved: it may run
    with start_worker(app):
        send_pipeline(app, 2, sha)
        wait_for("both stages", settled(github, redis_client, sha, 2))
    engine = runs_for(github, sha)["deploybot/engine"]
    assert engine["conclusion"] == "skipped"
    assert engine["output"]["summary"] == FORK_NEEDS_DOCKER
    assert not redis_client.hlen(run_state.ACTIVE)


def test_a_checks_page_rerun_of_a_commit_no_pull_request_names_does_not_run(
    github: FakeGitHub,
    settings: Settings,
    redis_client: redis.Redis,
    start_worker: WorkerFactory,
    tmp_path: Path,
) -> None:
    """GitHub names no pull request in check_run/check_suite events for a fork's head: such a
    re-run must not escape the fork's approval and limits by having no pull request."""
    remote, app = connected(github, settings, tmp_path)
    on_main = remote.commit({"data/ci-matrix.yaml": ENGINE})
    remote.branch("fork-head")
    elsewhere = remote.commit({"x.py": "A = 1\n"})
    push = contract.RecordPush(
        installation_id=INSTALLATION, repo=REPO, branch="main", sha=on_main, delivery_id="p1"
    )

    def rerun(sha: str) -> contract.Rerun:
        return contract.Rerun(
            installation_id=INSTALLATION,
            repo=REPO,
            scope="suite",
            stage=None,
            check_suite_id=5,
            check_run_id=None,
            sha=sha,
            pr_number=None,
            delivery_id=f"r-{sha[:8]}",
        )

    with start_worker(app):
        contract.send(app, push)
        wait_for("the push record", lambda: default_branch(redis_client, REPO) == "main")
        contract.send(app, rerun(elsewhere))
        wait_for("the refused re-run", settled(github, redis_client, elsewhere, 2))
        contract.send(app, rerun(on_main))
        wait_for("the default branch's re-run", settled(github, redis_client, on_main, 2))
    for run in runs_for(github, elsewhere).values():
        assert run["conclusion"] == "skipped"
        assert run["output"]["summary"] == messages.NO_PULL_REQUEST
    engine = runs_for(github, on_main)["deploybot/engine"]  # on the default branch: it ran
    assert engine["history"] == ["queued", "in_progress", "completed"]
