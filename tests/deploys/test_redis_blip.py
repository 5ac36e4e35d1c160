"""Redis restarted while a /deploy waits for the environment's lock: the task is sent again
once Redis answers (the countdown a worker held for it is lost with the connection), and the
deploy is done, reported by one check run."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
import redis

from core import contract
from core.settings import Settings
from deploy.lock import Locks, holder_now
from testkit.fakegithub.server import FakeGitHub
from testkit.loopback import restartable_redis
from tests.conftest import WorkerFactory
from tests.deploys.conftest import LEASE_S, Deployment, Staged
from tests.deploys.github_world import make_world, receiving
from tests.workers.harness import wait_for
from workers import run_state
from workers.deploys.records import DEPLOYS


def waiting(client: redis.Redis) -> str:
    """The deploy's record, once its task made one ("" before)."""
    found = client.keys(f"{DEPLOYS}:run:*")
    return run_state.text(client.get(found[0]) or b"") if found else ""


@pytest.mark.slow
def test_a_deploy_waiting_for_the_lock_is_sent_again_after_a_redis_restart_and_done_once(
    deployment: Callable[..., Deployment],
    process_releases: Staged,
    github: FakeGitHub,
    settings: Settings,
    start_worker: WorkerFactory,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="workers")
    with restartable_redis() as server:
        client = redis.Redis.from_url(server.url)
        mine = replace(settings, redis_url=server.url)
        world = make_world("process", process_releases, deployment, github, mine, client, tmp_path)
        first, _ = world.env.staged.commits
        world.merged(1, first)
        # Someone else holds the environment (`lock: queue`): the /deploy waits its turn.
        held = Locks(client, LEASE_S).acquire(
            world.env.name, holder_now("ops", "deploy", ""), "refuse"
        )
        with start_worker(world.app), receiving(world):
            world.command(1, "/deploy")
            world.answered(1, 1)  # told its place in the queue (by the command task)
            # Its own task has run once and waits for the lock now.
            wait_for("the deploy's task to wait", lambda: '"queued": true' in waiting(client))
            [record] = client.keys(f"{DEPLOYS}:run:*")
            delivery = run_state.text(record).rsplit(":", 1)[1]

            server.kill()
            # The worker's consumer notices, and drops the countdown it held for the deploy.
            wait_for("the worker to lose Redis", lambda: "Connection to broker lost" in caplog.text)
            server.start()
            held.release()  # lapsed meanwhile: no one holds the environment now
            lease = f"{run_state.PREFIX}:lease:deploy:{delivery}"
            wait_for("the waiting deploy's lease to lapse", lambda: not client.exists(lease))
            contract.send(world.app, contract.Recover())  # beat's tick, every minute
            run = world.wait_for_run(1, timeout_s=120)
        # Which path brings the deploy back depends on when the worker's channel closed: before
        # Redis came back, the countdown it held is lost and recover (above) sends the deploy
        # again ("lost its worker; starting it again"); after, kombu put it back in the queue
        # itself. Either way it is done, and once; without recover the first would time out.
        assert (run["head_sha"], run["conclusion"]) == (first, "success"), run["output"]
        assert len(world.deploy_runs()) == 1
        assert world.env.front_serves() == first
