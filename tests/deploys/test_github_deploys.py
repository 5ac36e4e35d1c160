"""/deploy, /rollback, /status and the Roll back button, end to end: a real Celery worker on real
Redis, the fake GitHub, HAProxy run by `deploybot proxy`, the tutor's releases served by each
runtime; data/deploy.yaml read from the repository's default branch."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator
from itertools import pairwise
from pathlib import Path

import pytest
import redis
from PIL import Image
from starlette.testclient import TestClient

from core import contract
from core.names import ROLLBACK_ACTION
from core.settings import Settings
from deploy.lock import Locks, holder_now
from deploybot.status_page import web_app
from testkit.fakegithub.server import FakeGitHub
from testkit.fakegithub.state import Pull
from testkit.serving import serve_in_thread
from tests.conftest import WorkerFactory, counted, worker_samples
from tests.deploys.conftest import Deployment, Staged
from tests.deploys.github_world import (
    INSTALLATION,
    MAINTAINER,
    ONCALL,
    READER,
    REPO,
    SECOND_MAINTAINER,
    GitHubWorld,
    make_world,
    receiving,
)
from tests.workers.harness import jobs_ended, wait_for
from workers.deploys.drive import REPORT_EVERY_S


@pytest.fixture(params=["process", pytest.param("docker", marks=pytest.mark.docker)])
def world(
    request: pytest.FixtureRequest,
    deployment: Callable[..., Deployment],
    github: FakeGitHub,
    settings: Settings,
    redis_client: redis.Redis,
    start_worker: WorkerFactory,
    tmp_path: Path,
) -> Iterator[GitHubWorld]:
    staged: Staged = request.getfixturevalue(f"{request.param}_releases")
    made = make_world(request.param, staged, deployment, github, settings, redis_client, tmp_path)
    with start_worker(made.app), receiving(made):
        yield made


SHOT_WIDTH, SHOT_HEIGHT = 1000, 1400


def screenshot(settings: Settings, out: Path) -> Image.Image:
    """The status page as Debian's headless Chromium renders it, from the served app."""
    browser = shutil.which("chromium")
    if browser is None:
        pytest.fail("Debian's chromium is not installed (.ci/run installs it)")
    with serve_in_thread(web_app(settings).status, "status-page") as url:
        done = subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",  # as root in CI; the page is our own, on loopback
                "--disable-gpu",
                "--hide-scrollbars",
                f"--window-size={SHOT_WIDTH},{SHOT_HEIGHT}",
                f"--screenshot={out}",
                url + "/",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 0, done.stderr[-2000:]
    assert out.is_file(), done.stderr[-2000:]
    return Image.open(out)


def _pixels(image: Image.Image) -> dict[tuple[int, int, int], int]:
    """How many pixels of each colour the image has."""
    found: dict[tuple[int, int, int], int] = {}
    for count, colour in image.convert("RGB").getcolors(1 << 24) or []:
        if isinstance(colour, tuple):
            found[(colour[0], colour[1], colour[2])] = count
    return found


# The tests that need no second runtime take the world's process runtime only.
process_only = pytest.mark.parametrize("world", ["process"], indirect=True)


def _commits(world: GitHubWorld) -> tuple[str, str]:
    first, second = world.env.staged.commits
    return first, second


@pytest.mark.slow
def test_deploy_button_rollback_and_status_from_pull_requests(world: GitHubWorld) -> None:
    first, second = _commits(world)
    world.merged(1, first)
    world.merged(2, second)
    before = worker_samples()

    asked = world.command(1, "/deploy")
    run = world.wait_for_run(1)
    assert (run["head_sha"], run["conclusion"]) == (first, "success")
    assert world.env.front_serves() == first
    assert [a["identifier"] for a in run["actions"]] == [ROLLBACK_ACTION]
    steps = run["output"]["summary"]
    for step in ("resolve", "start", "health", "smoke", "flip", "bake"):
        assert f"| {step} | done |" in steps
    wait_for("🚀", lambda: "rocket" in world.reactions(asked))
    assert "eyes" in world.reactions(asked)
    [deployment] = world.github.deployments()
    assert deployment["sha"] == first
    assert (deployment["auto_merge"], deployment["required_contexts"]) == (False, [])
    assert deployment["payload"]["model_digest"].startswith("sha256:")
    wait_for("the deployment's success", lambda: len(world.github.deployments()[0]["states"]) == 3)
    assert world.github.deployments()[0]["states"] == ["queued", "in_progress", "success"]
    wait_for("the summary", lambda: f"is on `{first[:12]}` (#1)" in world.summary(1))
    assert world.bot_comments(1) == [world.summary(1)]  # one comment, edited in place
    # Its steps coalesced: the check run and the summary each edited at most once a second
    # while it ran (seven steps), and the end written however soon it came.
    for edits in (world.check_run_edits(int(run["id"])), world.summary_edits(1)):
        assert edits, "no edit while the deploy ran"
        assert len(edits) < 7, edits
        assert all(later - earlier >= REPORT_EVERY_S for earlier, later in pairwise(edits))
    assert world.summary(1).splitlines()[1].startswith("🚀")
    assert any(first[:12] in c for c in world.bot_comments(ONCALL))

    world.command(2, "/deploy")
    run = world.wait_for_run(2)
    assert (run["head_sha"], run["conclusion"]) == (second, "success")
    assert world.env.front_serves() == second
    wait_for(
        "the replaced deployment to go inactive",
        lambda: [d["states"][-1] for d in world.github.deployments()] == ["inactive", "success"],
    )

    # The button on the live release's check run: the previous release serves again.
    world.press(run)
    back = world.wait_for_run(3)
    assert (back["head_sha"], back["conclusion"]) == (first, "success")
    assert world.env.front_serves() == first
    rolled_back = f"ROLLED BACK — {world.env.name} is on `{first[:12]}` (#1)"
    wait_for("the summary's first line", lambda: rolled_back in world.summary(2).splitlines()[1])
    # On-call reads what it rolled back from, and what is live now.
    rows = world.summary(2).splitlines()
    assert any(row.startswith(f"| live now | `{first[:12]}` (#1) since") for row in rows), rows
    assert f"| rollback of | `{second[:12]}` (#2), by @{MAINTAINER} on #2 |" in rows
    assert any("pressed Roll back" in c for c in world.bot_comments(2))
    # The rollback took the warm spare: no start step. Its own run has no button: rolling a
    # rollback back would put back what was just rolled back from.
    assert "| start |" not in back["output"]["summary"]
    assert back["actions"] == []
    # A second maintainer presses the same button a moment later: told, nothing changes.
    world.press(run, SECOND_MAINTAINER)
    wait_for("the answer", lambda: any("acts only while" in c for c in world.bot_comments(2)))
    assert len(world.deploy_runs()) == 3
    assert world.env.front_serves() == first

    world.command(2, "/deploy")
    assert world.wait_for_run(4)["conclusion"] == "success"
    assert world.env.front_serves() == second
    world.command(2, "/rollback")
    rolled = world.wait_for_run(5)
    assert (rolled["head_sha"], rolled["conclusion"]) == (first, "success")
    assert world.env.front_serves() == first
    # Three deploys and two rollbacks moved traffic, each flip timed with its step.
    after, env_name = worker_samples(), world.env.name
    flips = "deploybot_flips_total"
    assert counted(before, after, flips, environment=env_name, kind="deploy") == 3
    assert counted(before, after, flips, environment=env_name, kind="rollback") == 2
    assert counted(before, after, flips, environment=env_name, kind="flip-back") == 0
    timed = "deploybot_deploy_step_seconds_count"
    assert counted(before, after, timed, environment=env_name, step="flip", result="done") == 5
    assert counted(before, after, timed, environment=env_name, step="bake", result="done") == 3

    # The status page, from this live data.
    with TestClient(web_app(world.app.settings).status) as client:
        found = client.get("/api/status").json()
        page = client.get("/")
    [env] = [e for e in found["environments"] if e["name"] == world.env.name]
    assert (env["live"]["commit"], env["spare"]["commit"]) == (first, second)
    assert env["live"]["by"] == f"{MAINTAINER} (#2)"
    assert [r["kind"] for r in env["recent"][:2]] == ["rollback", "deploy"]
    assert env["dora"]["7"]["deploys"] == 3
    assert env["dora"]["7"]["lead_time_s"] > 0  # the commit times the manifests recorded
    assert page.status_code == 200
    assert first[:12] in page.text
    assert "change failure rate" in page.text
    shot = screenshot(world.app.settings, world.env.root / "status.png")
    assert shot.size == (SHOT_WIDTH, SHOT_HEIGHT)
    colours = _pixels(shot)
    # The chart's bar for today: the deploy that stayed (green) and the two rolled back (red).
    assert colours[(0x2D, 0xA4, 0x4E)] > 50
    assert colours[(0xCF, 0x22, 0x2E)] > 50
    assert sum(n for (r, g, b), n in colours.items() if r + g + b < 200) > 2000  # and text

    comments = len(world.bot_comments(2))
    world.command(2, "/status")
    answer = world.answered(2, comments + 1)[-1]
    assert f"live: `{first[:12]}`" in answer
    assert f"spare: `{second[:12]}`" in answer
    assert world.github.take_violations() == []


@pytest.mark.slow
@process_only
def test_refusals_change_nothing_and_say_why(world: GitHubWorld) -> None:
    first, second = _commits(world)
    world.merged(1, first)
    # Nothing to roll back from yet, then nothing earlier to roll back to.
    world.command(1, "/rollback")
    said = world.answered(1, 1)[-1]
    assert f"nothing is live in {world.env.name} to roll back from; nothing was done." in said
    world.command(1, "/deploy")
    run = world.wait_for_run(1)
    world.command(1, "/rollback")
    wait_for(
        "the answer",
        lambda: any("no earlier release was live" in c for c in world.bot_comments(1)),
    )
    assert world.env.front_serves() == first
    entries = len(world.env.entries())
    comments = len(world.bot_comments(1))

    # A reader may not deploy, nor press the button.
    asked = world.command(1, "/deploy", READER)
    said = world.answered(1, comments + 1)[-1]
    assert "needs write access" in said
    assert "you have read" in said
    wait_for("😕", lambda: "confused" in world.reactions(asked))
    world.press(run, READER)
    said = world.answered(1, comments + 2)[-1]
    assert "`Roll back` needs write access" in said
    # But a reader may ask what is live: /status only reads.
    world.command(1, "/status", READER)
    said = world.answered(1, comments + 3)[-1]
    assert f"live: `{first[:12]}`" in said
    comments += 1

    # An open pull request has no merge commit to deploy.
    world.github.add_pull(REPO, Pull(number=3, head_sha=second))
    world.command(3, "/deploy")
    assert "is open, not merged" in world.answered(3, 1)[-1]

    # A pull request merged into another branch than the default one.
    world.merged(5, second, base="release-1")
    world.command(5, "/deploy")
    assert "was merged into `release-1`" in world.answered(5, 1)[-1]

    # An unknown environment, with the closest name.
    typo = world.env.name[:-1] + ("x" if world.env.name[-1] != "x" else "y")
    world.command(1, f"/deploy {typo}")
    said = world.answered(1, comments + 3)[-1]
    assert f"`{typo}` is not an environment" in said
    assert f"Did you mean `{world.env.name}`?" in said

    # Another deploy holds the lock, and the environment refuses a second one.
    world.publish_config(lock="refuse")
    world.merged(2, second)
    locks = Locks(world.redis, 60)
    holder = holder_now("alice", "deploy", "f" * 40, pr=7, link="https://example.test/run/1")
    with locks.acquire(world.env.name, holder, "refuse"):
        world.command(2, "/deploy")
        said = "\n".join(world.answered(2, 1))
    assert "locked by the deploy of ffffffffffff from #7 by alice" in said
    assert "https://example.test/run/1" in said
    assert "lock: refuse" in said

    assert len(world.env.entries()) == entries  # not one step was taken
    assert world.env.front_serves() == first
    assert len(world.github.deployments()) == 1
    assert len(world.deploy_runs()) == 1
    assert world.github.take_violations() == []


@pytest.mark.slow
@process_only
def test_a_merge_commit_with_no_release_is_built_staged_and_gated_first(
    world: GitHubWorld,
) -> None:
    merge = world.remote.git("rev-parse", "HEAD")  # the commit that added data/deploy.yaml
    world.merged(4, merge)
    before = worker_samples()

    world.command(4, "/deploy")
    run = world.wait_for_run(1)
    assert (run["head_sha"], run["conclusion"]) == (merge, "success"), run["output"]["summary"]
    for step in ("build", "stage", "gate", "record", "resolve", "flip", "bake"):
        assert f"| {step} | done |" in run["output"]["summary"]
    assert world.env.front_serves() == merge
    wait_for("the summary", lambda: "**Gate: PASS**" in world.summary(4))
    [deployment] = world.github.deployments()
    assert deployment["sha"] == merge

    # The same task delivered again (the broker's redelivery after a lost ack): nothing new.
    # (Once the first copy has finished: its last posts, the on-call issue's included, follow
    # the check run's completion.)
    wait_for("the first copy to finish", lambda: jobs_ended(before, contract.RunDeploy.NAME) == 1)
    comments = world.github.comments()
    delivery = run["external_id"].removeprefix("deploy:")
    again = contract.RunDeploy(
        installation_id=INSTALLATION,
        repo=REPO,
        pr_number=4,
        comment_id=comments[0]["id"],
        sender=MAINTAINER,
        delivery_id=delivery,
        env=world.env.name,
        sha=merge,
        default_branch="main",
    )
    contract.send(world.app, again)
    wait_for("the redelivered copy", lambda: jobs_ended(before, contract.RunDeploy.NAME) == 2)
    assert len(world.deploy_runs()) == 1
    assert len(world.github.deployments()) == 1
    assert world.github.comments() == comments


@pytest.mark.slow
@process_only
def test_a_rollback_during_a_bake_takes_the_lock_over_and_both_runs_say_so(
    world: GitHubWorld,
) -> None:
    first, second = _commits(world)
    world.merged(1, first)
    world.command(1, "/deploy")
    world.wait_for_run(1)
    world.publish_config(bake_s=120)
    world.merged(2, second)
    # GitHub fails while the deploy reports a step: the deploy goes on regardless.
    world.github.fail_next("PATCH", r"/check-runs/\d+$", 502)
    world.command(2, "/deploy")
    before = len(world.env.entries())
    world.env.wait_for_entry(lambda e: e["step"] == "bake" and e["phase"] == "begin", after=before)
    assert world.env.front_serves() == second

    world.command(2, "/rollback")
    rolled = world.wait_for_run(3, timeout_s=60)  # waits one lease (2 s), not the bake (120 s)
    deployed = world.wait_for_run(2, timeout_s=60)
    assert (rolled["head_sha"], rolled["conclusion"]) == (first, "success")
    assert deployed["conclusion"] == "failure"
    assert "taken over" in deployed["output"]["summary"]
    assert world.env.front_serves() == first
    found = world.env.status()
    assert (found["lock"], found["in_progress"]) == (None, False)
    assert found["bad"] == [second]  # rolled back from: no later /rollback goes forward to it
    assert world.github.take_violations() == []


@pytest.mark.slow
@process_only
def test_a_failover_is_told_in_the_oncall_issue(world: GitHubWorld) -> None:
    first, second = _commits(world)
    for number, sha in ((1, first), (2, second)):
        world.merged(number, sha)
        world.command(number, "/deploy")
        world.wait_for_run(number)

    world.env.signal_colour("green")  # the live colour dies; no deploy runs

    def told() -> list[str]:
        return [c for c in world.bot_comments(ONCALL) if "FAILED OVER" in c]

    wait_for("the on-call issue to hear of the failover", lambda: bool(told()), timeout_s=60)
    [said] = told()
    assert f"FAILED OVER — {world.env.name} is on `{first[:12]}`" in said
    assert f"the live colour serving `{second[:12]}` failed HAProxy's health checks" in said
    assert world.env.front_serves() == first
    assert world.github.take_violations() == []
