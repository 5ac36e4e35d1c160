"""Rollbacks first in line: `deploybot worker --concurrency 2`, the production command, has both
its slots running long stages and a /deploy queued behind a baking deploy's lock; a /rollback
still reaches the previous release in seconds (its own queue and worker, and the baking deploy
gives its lock up at once), not when a slot frees. A queued deploy holds no slot while it waits."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis

from core.settings import Settings
from testkit.fakegithub.server import FakeGitHub
from tests.deploys.conftest import Deployment, Staged
from tests.deploys.github_world import make_world, receiving
from tests.workers import harness
from tests.workers.harness import (
    add_pull,
    make_remote,
    matrix,
    process_group,
    python_stage,
    send_pipeline,
    wait_for,
)

pytestmark = pytest.mark.slow

STAGE_S = 60  # what a rollback would wait for a worker slot, were it in line behind a stage
# Generous on a shared 2-core machine, and far under a stage: `just bench` prints the figure.
SERVED_WITHIN_S = 10


def test_a_rollback_waits_for_no_stage_and_no_queued_deploy(
    process_releases: Staged,
    deployment: Callable[..., Deployment],
    github: FakeGitHub,
    settings: Settings,
    redis_client: redis.Redis,
    tmp_path: Path,
) -> None:
    first, second = process_releases.commits
    world = make_world(
        "process", process_releases, deployment, github, settings, redis_client, tmp_path
    )
    world.env.deploy(first)
    world.publish_config(bake_s=120)
    baking = world.env.popen("deploy", second)  # an operator's deploy: it holds the lock
    world.env.wait_for_entry(lambda e: e["step"] == "bake" and e["phase"] == "begin")

    # Another repository whose one stage holds a worker slot for a minute.
    github.add_repo(harness.REPO, harness.INSTALLATION)
    other = make_remote(tmp_path / "remotes")
    slow = matrix(python_stage("hold", f"import time; time.sleep({STAGE_S})", 0))
    heads = [other.commit({"data/ci-matrix.yaml": slow, "n.txt": f"{n}\n"}) for n in (1, 2)]

    worker = [sys.executable, "-m", "deploybot", "worker", "--concurrency", "2"]
    with receiving(world), process_group(worker, world.app.settings, tmp_path / "worker.log"):
        world.merged(3, second)
        world.command(3, "/deploy")
        wait_for("the queued deploy's place", lambda: "is next" in "".join(world.bot_comments(3)))
        for number, sha in zip((11, 12), heads, strict=True):
            add_pull(github, number, sha, ["n.txt"])
            send_pipeline(world.app, number, sha)

        def holding() -> list[dict[str, object]]:
            return [
                r
                for r in github.check_runs()
                if r["name"] == "deploybot/hold" and r["status"] == "in_progress"
            ]

        wait_for("both slots running a stage", lambda: len(holding()) == 2, timeout_s=120)

        asked = time.monotonic()
        world.command(3, "/rollback")
        while world.env.front_serves() != first:
            assert time.monotonic() - asked < SERVED_WITHIN_S, "the rollback waited in line"
            time.sleep(0.02)
        assert len(holding()) == 2  # both slots were busy all along
        rolled = world.wait_for_run(1, timeout_s=60)  # the queued deploy's has not opened yet

    assert (rolled["head_sha"], rolled["conclusion"]) == (first, "success")
    said, _ = baking.communicate(timeout=60)
    assert baking.returncode == 1
    assert "taken over" in said
    assert world.env.status()["bad"] == [second]  # rolled back from during its bake
    assert world.github.take_violations() == []
