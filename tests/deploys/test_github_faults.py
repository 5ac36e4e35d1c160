"""The worker driving a /deploy is killed (SIGKILL, the whole process group) in each state of the
machine in turn. The next worker's `recover` starts the deploy's task again, which settles what
the ledger says was left and makes GitHub true: no check run or deployment left in progress, the
summary saying what serves, and traffic on a healthy release."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis

from core.settings import Settings
from testkit.fakegithub.server import FakeGitHub
from tests.deploys.conftest import Deployment, Staged
from tests.deploys.github_world import GitHubWorld, make_world, receiving
from tests.deploys.test_faults import STATES
from tests.workers.harness import celery_worker, wait_for

pytestmark = pytest.mark.slow
RECOVERED_WITHIN_S = 180.0


@pytest.fixture
def world(
    process_releases: Staged,
    deployment: Callable[..., Deployment],
    github: FakeGitHub,
    settings: Settings,
    redis_client: redis.Redis,
    tmp_path: Path,
) -> GitHubWorld:
    """The process runtime's world, with no worker: each test starts and kills its own."""
    return make_world(
        "process", process_releases, deployment, github, settings, redis_client, tmp_path
    )


@contextmanager
def killed_at_the_end(world: GitHubWorld, name: str, log: Path) -> Iterator[None]:
    """A worker and the receiver for the block; the worker SIGKILLed, with its pool, at its end
    (whatever it was doing)."""
    with celery_worker(world.app.settings, name, log) as worker, receiving(world):
        yield
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()


@pytest.mark.parametrize("state", list(STATES))
def test_a_worker_killed_mid_deploy_leaves_github_telling_the_truth(
    state: str, world: GitHubWorld, process_releases: Staged, tmp_path: Path
) -> None:
    first, second = process_releases.commits
    world.env.deploy(first)  # from the command line: a release is live
    world.publish_config(**STATES[state])
    world.merged(2, second)
    worker_settings: Settings = world.app.settings
    log = tmp_path / "workers.log"
    before = len(world.env.entries())

    with killed_at_the_end(world, "first@deploys", log):
        world.command(2, "/deploy")
        if state == "flip-back":
            world.env.wait_for_entry(
                lambda e: e["step"] == "bake" and e["phase"] == "begin", after=before
            )
            world.env.signal_colour("green", signal.SIGSTOP)
        world.env.wait_for_entry(
            lambda e: e["step"] == state and e["phase"] == "begin", after=before
        )
    [run] = world.deploy_runs()
    assert run["status"] == "in_progress"  # what a dead worker leaves

    with celery_worker(worker_settings, "second@deploys", log):
        run = world.wait_for_run(1, timeout_s=RECOVERED_WITHIN_S)
        wait_for(
            "the deployment's last status",
            lambda: world.github.deployments()[0]["states"][-1] != "in_progress",
        )
        wait_for("the summary", lambda: "cut short" in world.summary(2).splitlines()[1])

    # A deploy cut short is not trusted: the release it was replacing serves again.
    assert world.env.front_serves() == first
    assert run["conclusion"] == "failure"
    assert world.github.deployments()[0]["states"][-1] == "failure"
    headline = world.summary(2).splitlines()[1]
    assert f"is on `{first[:12]}`" in headline
    assert "cut short (its worker died)" in headline
    found = world.env.status()
    assert found["lock"] is None
    assert not found["in_progress"]
    assert found["last"][-1]["outcome"] == "reconciled"
    if state == "flip-back":
        assert found["bad"] == [second]
    assert world.github.take_violations() == []


def test_a_worker_killed_mid_rollback_leaves_github_telling_the_truth(
    world: GitHubWorld, process_releases: Staged, tmp_path: Path
) -> None:
    first, second = process_releases.commits
    world.env.deploy(first)
    world.env.deploy(second)
    world.env.signal_colour("blue")  # no warm spare: the rollback starts the release again
    world.merged(2, second)
    worker_settings: Settings = world.app.settings
    log = tmp_path / "workers.log"
    before = len(world.env.entries())

    with killed_at_the_end(world, "first@rollback", log):
        world.command(2, "/rollback")
        world.env.wait_for_entry(
            lambda e: e["step"] == "health" and e["phase"] == "begin", after=before
        )

    with celery_worker(worker_settings, "second@rollback", log):
        run = world.wait_for_run(1, timeout_s=RECOVERED_WITHIN_S)
        rolled_back = f"ROLLED BACK — {world.env.name} is on `{first[:12]}`"
        wait_for("the summary", lambda: rolled_back in world.summary(2).splitlines()[1])

    # A rollback cut short is finished when the release it goes to came up healthy: getting off
    # the release it was asked to leave is the point of it.
    assert (run["head_sha"], run["conclusion"]) == (first, "success")
    assert world.env.front_serves() == first
    assert "the rollback to" in run["output"]["summary"]
    wait_for(
        "the deployment's last status", lambda: len(world.github.deployments()[0]["states"]) > 2
    )
    assert world.github.deployments()[0]["states"][-1] == "success"
    found = world.env.status()
    assert (found["lock"], found["in_progress"]) == (None, False)
    assert world.github.take_violations() == []
