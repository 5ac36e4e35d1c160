"""Deploy control from the pull request, end to end through the receiver, a real worker, Redis,
HAProxy and the fake GitHub: a dry run, the gate's override, the visible queue and /cancel,
sticky locks, freeze windows and the break-glass."""

from __future__ import annotations

import os
import shutil
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from starlette.testclient import TestClient

from core.settings import Settings
from deploy.manifest import Override, ReleaseIndex
from deploybot.status_page import web_app
from testkit.fakegithub.server import FakeGitHub
from tests.conftest import WorkerFactory
from tests.deploys.conftest import Deployment, Staged
from tests.deploys.github_world import (
    MAINTAINER,
    READER,
    REPO,
    SECOND_MAINTAINER,
    GitHubWorld,
    make_world,
    receiving,
)
from tests.workers.harness import process_group, wait_for

# A freeze window that holds now, whenever the test runs.
ALWAYS_FROZEN = (
    "    freeze:\n"
    '      - {cron: "* * * * *", duration: 2h, timezone: Europe/Madrid, reason: release freeze}\n'
)


@pytest.fixture
def world(
    process_releases: Staged,
    deployment: Callable[..., Deployment],
    github: FakeGitHub,
    settings: Settings,
    redis_client: redis.Redis,
    start_worker: WorkerFactory,
    tmp_path: Path,
) -> Iterator[GitHubWorld]:
    made = make_world(
        "process", process_releases, deployment, github, settings, redis_client, tmp_path
    )
    with start_worker(made.app), receiving(made):
        yield made


def said(world: GitHubWorld, number: int, text: str) -> str:
    """The bot's comment on #number that says `text`, once it is there."""
    wait_for(repr(text), lambda: any(text in c for c in world.bot_comments(number)))
    return next(c for c in world.bot_comments(number) if text in c)


def first_live(world: GitHubWorld) -> tuple[str, str]:
    """The two staged releases, merged as #1 and #2; #1's deployed from its pull request."""
    first, second = world.env.staged.commits
    world.merged(1, first)
    world.merged(2, second)
    world.command(1, "/deploy")
    assert world.wait_for_run(1)["conclusion"] == "success"
    return first, second


def finishes(world: GitHubWorld) -> list[dict[str, object]]:
    return [e for e in world.env.entries() if e["step"] == "finish"]


@pytest.mark.slow
def test_a_dry_run_stages_and_gates_and_reports_yet_changes_no_traffic(
    world: GitHubWorld,
) -> None:
    first, _ = first_live(world)
    entries, runs = len(world.env.entries()), len(world.deploy_runs())
    merge = world.remote.git("rev-parse", "HEAD")  # the commit that added data/deploy.yaml
    world.merged(4, merge)

    asked = world.command(4, "/deploy --dry-run")
    report = said(world, 4, "**Dry run**")
    assert "A deploy asked now would **go ahead at once**" in report
    assert "**Gate: PASS**" in report
    assert "| **aggregate** |" in report
    assert "The release: staged now (build " in report
    assert f"flip the front 127.0.0.1:{world.env.front} from blue (`{first[:12]}`) to green" in (
        report
    )
    wait_for("👀", lambda: "eyes" in world.reactions(asked))
    # Nothing moved: no ledger entry, no check run, no deployment; the release was staged.
    assert len(world.env.entries()) == entries
    assert len(world.deploy_runs()) == runs
    assert [d["sha"] for d in world.github.deployments()] == [first]
    assert world.env.front_serves() == first
    assert ReleaseIndex(world.env.data / "releases", REPO).get(merge) is not None
    assert world.github.take_violations() == []


@pytest.mark.slow
def test_the_gates_override_from_a_pull_request_is_an_admins_and_is_recorded(
    world: GitHubWorld,
) -> None:
    shutil.rmtree(world.env.data / "releases")  # a first release: nothing to compare it with
    index = ReleaseIndex(world.env.data / "releases", REPO)
    merge = world.remote.git("rev-parse", "HEAD")
    world.merged(4, merge)

    # A dry run says the gate would stop it, and why.
    world.command(4, "/deploy --dry-run")
    report = said(world, 4, "**Dry run**")
    assert "**be stopped before any traffic moves: the gate says inconclusive**" in report
    assert "--accept-inconclusive <reason>" in report
    assert index.get(merge) is None  # an inconclusive release is never recorded unaccepted

    reason = "first release, nothing to compare with"
    world.command(4, f"/deploy --accept-inconclusive {reason}", READER)
    said(world, 4, f"@{READER} `/deploy` needs write access to this repository (you have read)")
    world.command(4, f"/deploy --accept-inconclusive {reason}", MAINTAINER)
    refused = said(world, 4, "--accept-inconclusive` needs admin access")
    assert "you have write" in refused
    assert "override_permission" in refused
    assert world.deploy_runs() == []
    assert index.get(merge) is None

    world.command(4, f"/deploy --accept-inconclusive {reason}", SECOND_MAINTAINER)
    run = world.wait_for_run(1)
    assert (run["head_sha"], run["conclusion"]) == (merge, "success"), run["output"]["summary"]
    assert world.env.front_serves() == merge
    manifest = index.get(merge)
    assert manifest is not None
    assert (manifest.verdict, manifest.override) == (
        "inconclusive",
        Override(SECOND_MAINTAINER, reason),
    )
    assert finishes(world)[-1]["extra"]["accepted_inconclusive"] == {  # type: ignore[index]
        "by": SECOND_MAINTAINER,
        "reason": reason,
    }
    row = f"| gate override | inconclusive, accepted by @{SECOND_MAINTAINER}: {reason} |"
    assert row in run["output"]["summary"]
    wait_for("the summary's override row", lambda: row in world.summary(4))


@pytest.mark.slow
def test_queued_deploys_are_told_their_place_run_in_order_and_one_can_be_cancelled(
    world: GitHubWorld,
) -> None:
    first, second = world.env.staged.commits
    world.publish_config(bake_s=4)
    for number, sha in ((1, first), (2, second), (3, second), (5, first)):
        world.merged(number, sha)
    world.command(1, "/deploy")
    world.env.wait_for_entry(lambda e: e["step"] == "bake" and e["phase"] == "begin")

    # Each asked once the one before was answered (answers to comments that arrive together
    # may come in either order; the queue keeps the order the receiver got them).
    world.command(2, "/deploy")
    next_up = said(world, 2, "This deploy is next")
    assert f"locked by the deploy of {first[:12]} from #1 by {MAINTAINER}" in next_up
    world.command(3, "/deploy", SECOND_MAINTAINER)
    behind = said(world, 3, "This deploy is number 2 in its queue")
    assert f"Ahead of it:\n1. the deploy of {second[:12]} from #2 by {MAINTAINER}" in behind
    world.command(5, "/deploy")
    said(world, 5, "This deploy is number 3 in its queue")
    # /status lists the queue.
    world.command(2, "/status")
    status = said(world, 2, "- lock: deploy of")
    assert f"  2. queued: the deploy of {second[:12]} from #3 by {SECOND_MAINTAINER}" in status
    assert f"  3. queued: the deploy of {first[:12]} from #5 by {MAINTAINER}" in status
    # The sender's own queued deploy is withdrawn; then they have none left to withdraw.
    world.command(3, "/cancel", SECOND_MAINTAINER)
    withdrawn = said(world, 3, "Withdrawn from")
    assert f"(it was number 2): the deploy of {second[:12]} from #3" in withdrawn
    world.command(3, "/cancel", SECOND_MAINTAINER)
    said(world, 3, f"@{SECOND_MAINTAINER} has no deploy waiting in `{world.env.name}`'s queue")

    wait_for("three deploys finished", lambda: len(finishes(world)) == 3)
    ran = [(e["commit"], e["outcome"]) for e in finishes(world)]
    assert ran == [(first, "done"), (second, "done"), (first, "done")]
    # In the order asked, #1, #2 then #5; #3 was withdrawn and never ran (not even a check run).
    world.wait_for_run(3)
    assert [r["head_sha"] for r in world.deploy_runs()] == [first, second, first]
    assert all(r["conclusion"] == "success" for r in world.deploy_runs())
    assert world.github.take_violations() == []


@pytest.mark.slow
def test_a_queued_deploy_whose_pull_request_was_reverted_since_leaves_the_queue_and_says_so(
    world: GitHubWorld,
) -> None:
    first, second = world.env.staged.commits
    world.publish_config(bake_s=6)
    world.merged(1, first)
    world.merged(2, second)
    world.command(1, "/deploy")
    world.env.wait_for_entry(lambda e: e["step"] == "bake" and e["phase"] == "begin")
    world.command(2, "/deploy")
    said(world, 2, "This deploy is next")
    # What GitHub's Revert button merges: a commit whose message names the one it reverts.
    revert = world.remote.commit(
        {"reverted.txt": "2\n"}, f'Revert "two"\n\nThis reverts commit {second}.'
    )

    dropped = said(world, 2, "left the queue without running")
    assert f"its merge commit `{second[:12]}` was reverted on `main` by `{revert[:12]}`" in dropped
    assert world.wait_for_run(1)["conclusion"] == "success"
    wait_for("the first deploy's end", lambda: len(finishes(world)) == 1)
    assert [(e["commit"], e["outcome"]) for e in finishes(world)] == [(first, "done")]
    assert [r["head_sha"] for r in world.deploy_runs()] == [first]
    assert world.env.front_serves() == first


@pytest.mark.slow
def test_the_queue_survives_its_worker_being_killed(
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
    world.env.deploy(second)
    world.env.write_config(bake_s=40)
    baking = world.env.popen("deploy", first)  # an operator's deploy holds the lock meanwhile
    world.env.wait_for_entry(lambda e: e["step"] == "bake" and e["phase"] == "begin")
    world.merged(2, second)
    world.merged(3, first)
    worker = [sys.executable, "-m", "deploybot", "worker", "--concurrency", "2"]
    log = tmp_path / "worker.log"
    with receiving(world):
        with process_group(worker, world.app.settings, log) as doomed:
            world.command(2, "/deploy")
            said(world, 2, "This deploy is next")
            world.command(3, "/deploy", SECOND_MAINTAINER)
            said(world, 3, "This deploy is number 2 in its queue")
            os.killpg(doomed.pid, signal.SIGKILL)
            doomed.wait()
        with process_group(worker, world.app.settings, log):
            output, _ = baking.communicate(timeout=120)
            assert baking.returncode == 0, output
            wait_for("both queued deploys", lambda: len(finishes(world)) == 4, timeout_s=240)
    ran = [(e["commit"], e["by"], e["outcome"]) for e in finishes(world)[2:]]
    assert ran == [
        (second, f"{MAINTAINER} (#2)", "done"),
        (first, f"{SECOND_MAINTAINER} (#3)", "done"),
    ]
    assert world.env.front_serves() == first
    assert world.github.take_violations() == []


@pytest.mark.slow
def test_a_sticky_lock_refuses_others_deploys_survives_its_holders_and_lets_a_rollback_through(
    world: GitHubWorld,
) -> None:
    first, second = first_live(world)
    env = world.env.name

    world.command(2, "/lock database migration, back by 18:00", SECOND_MAINTAINER)
    said(world, 2, f"🔒 @{SECOND_MAINTAINER} now holds `{env}`: database migration, back by 18:00")
    world.command(2, "/lock mine now", MAINTAINER)
    said(world, 2, f"`{env}` is already locked by @{SECOND_MAINTAINER}")
    asked = world.command(2, "/deploy")
    refused = said(world, 2, f"🔒 `{env}` is locked by @{SECOND_MAINTAINER} on #2 since")
    assert f"Ask @{SECOND_MAINTAINER} to comment `/unlock {env}`" in refused
    wait_for("😕", lambda: "confused" in world.reactions(asked))
    assert len(world.deploy_runs()) == 1

    # The holder's own deploy goes through, and a success does not release the lock.
    world.command(2, "/deploy", SECOND_MAINTAINER)
    assert world.wait_for_run(2)["conclusion"] == "success"
    assert world.env.front_serves() == second
    world.command(2, "/status", READER)
    status = said(world, 2, "- held: 🔒 by")
    assert f"- held: 🔒 by @{SECOND_MAINTAINER} since" in status

    # A rollback is never blocked, and says whose lock it passed.
    world.command(2, "/rollback")
    said(world, 2, f"🔓 This rollback goes through @{SECOND_MAINTAINER}'s lock on `{env}`")
    assert world.wait_for_run(3)["conclusion"] == "success"
    assert world.env.front_serves() == first

    world.command(2, "/unlock", MAINTAINER)
    said(world, 2, f"🔓 `{env}` is unlocked (it was @{SECOND_MAINTAINER}'s)")
    world.command(2, "/deploy")
    assert world.wait_for_run(4)["conclusion"] == "success"
    assert world.github.take_violations() == []


@pytest.mark.slow
def test_a_deploy_inside_a_freeze_is_refused_and_an_admins_break_glass_is_recorded(
    world: GitHubWorld,
) -> None:
    first, second = first_live(world)
    world.publish_config(more=ALWAYS_FROZEN)
    env = world.env.name

    world.command(2, "/deploy")
    refused = said(world, 2, f"🧊 `{env}` is in a freeze window: release freeze (from ")
    assert "Europe/Madrid;" in refused
    assert "left)" in refused
    assert f"`/deploy {env} --break-glass <reason>`" in refused
    world.command(2, "/deploy --break-glass hotfix for the outage")
    said(world, 2, "--break-glass` needs admin access")
    assert len(world.deploy_runs()) == 1

    world.command(2, "/deploy --break-glass hotfix for the outage", SECOND_MAINTAINER)
    run = world.wait_for_run(2)
    assert (run["head_sha"], run["conclusion"]) == (second, "success")
    glass = finishes(world)[-1]["extra"]["break_glass"]  # type: ignore[index]
    assert (glass["by"], glass["reason"], glass["window"]) == (
        SECOND_MAINTAINER,
        "hotfix for the outage",
        "release freeze",
    )
    row = f'| break-glass | freeze "release freeze" (until {glass["until"]}) broken by @'
    assert row in run["output"]["summary"]
    wait_for("the summary's break-glass row", lambda: row in world.summary(2))

    # A rollback is never frozen; the status page shows the window.
    world.command(2, "/rollback")
    assert world.wait_for_run(3)["conclusion"] == "success"
    assert world.env.front_serves() == first
    with TestClient(web_app(world.app.settings).status) as client:
        found = client.get("/api/status").json()
        page = client.get("/").text
    [shown] = [e for e in found["environments"] if e["name"] == env]
    assert shown["freeze"]["now"]["reason"] == "release freeze"
    assert shown["freeze"]["next"]["reason"] == "release freeze"
    assert "<th>frozen now</th><td>release freeze:" in page
    assert world.github.take_violations() == []
