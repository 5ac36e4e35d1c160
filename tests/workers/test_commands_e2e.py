"""Commands, re-runs, forks, a broken matrix and releases, through a real worker and fake GitHub."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
from celery import Celery

from core import contract, heads
from core.commands import help_text
from core.names import CI_SUMMARY_MARKER
from core.settings import Settings
from testkit.fakegithub.server import FakeGitHub
from tests.conftest import WorkerFactory, worker_samples
from tests.workers.harness import (
    INSTALLATION,
    PYTHON,
    REPO,
    Remote,
    add_pull,
    connected,
    idle,
    jobs_ended,
    matrix,
    python_stage,
    runs_for,
    send_pipeline,
    settled,
    stage,
    wait_for,
)
from workers.ci import messages
from workers.ci.branch_records import default_branch

TWO_STAGES = matrix(
    python_stage("greet", "print('hello')", 0),
    python_stage("lint", "raise SystemExit(1)", 1),
)
MAINTAINER = "boss"
OUTSIDER = "outsider"


def delivery() -> str:
    return str(uuid.uuid4())


def command_message(
    number: int,
    comment_id: int,
    sender: str,
    command: str,
    delivery_id: str | None = None,
    **arguments: str,
) -> contract.RunCommand:
    return contract.RunCommand(
        installation_id=INSTALLATION,
        repo=REPO,
        pr_number=number,
        comment_id=comment_id,
        sender=sender,
        command=command,
        delivery_id=delivery_id or delivery(),
        received_at=heads.stamp(datetime.now(UTC)),
        env=arguments.get("env"),
        sha=arguments.get("sha"),
        stage=arguments.get("stage"),
    )


@dataclass
class World:
    github: FakeGitHub
    redis: redis.Redis
    app: Celery
    remote: Remote

    def comment(self, number: int, body: str, author: str) -> int:
        """A comment a person wrote on the pull request."""
        return self.github.add_comment(REPO, number, body, author)

    def command(self, number: int, command: str, sender: str, **arguments: str) -> int:
        comment_id = self.comment(number, f"/{command}", sender)
        contract.send(self.app, command_message(number, comment_id, sender, command, **arguments))
        return comment_id

    def bot_comments(self) -> list[str]:
        return [c["body"] for c in self.github.comments() if c["user"]["login"].endswith("[bot]")]


@pytest.fixture
def world(
    github: FakeGitHub,
    settings: Settings,
    redis_client: redis.Redis,
    start_worker: WorkerFactory,
    tmp_path: Path,
) -> Iterator[World]:
    remote, app = connected(github, settings, tmp_path)
    github.set_permission(REPO, MAINTAINER, "write")
    github.set_permission(REPO, OUTSIDER, "read")
    with start_worker(app):
        yield World(github, redis_client, app, remote)


def test_fork_waits_for_ok_to_test_from_a_writer(world: World) -> None:
    sha = world.remote.commit({"data/ci-matrix.yaml": TWO_STAGES})
    add_pull(world.github, 4, sha, ["x.py"], head_repo="outsider/app", user=OUTSIDER)

    send_pipeline(world.app, 4, sha)
    wait_for("the summary comment", lambda: bool(world.bot_comments()) and idle(world.redis))
    assert runs_for(world.github, sha) == {}
    [summary] = world.bot_comments()
    assert summary.startswith(CI_SUMMARY_MARKER)
    assert "/ok-to-test" in summary

    world.command(4, "ok-to-test", OUTSIDER)
    wait_for("the refusal", lambda: len(world.bot_comments()) == 2)
    assert messages.needs_write("ok-to-test", OUTSIDER) in world.bot_comments()
    assert runs_for(world.github, sha) == {}

    approval = world.command(4, "ok-to-test", MAINTAINER, sha=sha[:10])
    wait_for("the approved pipeline", settled(world.github, world.redis, sha, 2))
    runs = runs_for(world.github, sha)
    assert runs["deploybot/greet"]["conclusion"] == "success"
    assert runs["deploybot/lint"]["conclusion"] == "failure"
    with world.github.lock:
        reactions = world.github.state.reactions.get(approval, [])
    assert [r["content"] for r in reactions] == ["eyes"]
    # The same summary comment, edited: still two bot comments (summary and refusal).
    assert len(world.bot_comments()) == 2
    assert f"`{sha[:10]}`: failed" in world.bot_comments()[0]


def test_retest_one_stage_creates_a_fresh_check_run(world: World) -> None:
    sha = world.remote.commit({"data/ci-matrix.yaml": TWO_STAGES})
    add_pull(world.github, 6, sha, ["x.py"])
    send_pipeline(world.app, 6, sha)
    wait_for("the pipeline", settled(world.github, world.redis, sha, 2))

    world.command(6, "retest", MAINTAINER, stage="lint")
    wait_for("the re-run", settled(world.github, world.redis, sha, 3))
    lint_runs = [r for r in world.github.check_runs() if r["name"] == "deploybot/lint"]
    assert [r["history"] for r in lint_runs] == [["queued", "in_progress", "completed"]] * 2
    assert lint_runs[0]["id"] != lint_runs[1]["id"]

    world.command(6, "retest", MAINTAINER, stage="nosuch")
    wait_for("the answer", lambda: len(world.bot_comments()) == 2)
    assert messages.unknown_stage("nosuch", ["greet", "lint"]) in world.bot_comments()


def test_check_run_rerequested_reruns_that_stage(world: World) -> None:
    sha = world.remote.commit({"data/ci-matrix.yaml": TWO_STAGES})
    add_pull(world.github, 8, sha, ["x.py"])
    send_pipeline(world.app, 8, sha)
    wait_for("the pipeline", settled(world.github, world.redis, sha, 2))
    greet = runs_for(world.github, sha)["deploybot/greet"]

    rerun = contract.Rerun(
        installation_id=INSTALLATION,
        repo=REPO,
        scope="stage",
        stage="greet",
        check_suite_id=1,
        check_run_id=greet["id"],
        sha=sha,
        pr_number=8,
        delivery_id=delivery(),
    )
    contract.send(world.app, rerun)
    wait_for("the re-run", settled(world.github, world.redis, sha, 3))
    greets = [r for r in world.github.check_runs() if r["name"] == "deploybot/greet"]
    assert [r["conclusion"] for r in greets] == ["success", "success"]


def test_help_is_posted_for_a_writer(world: World) -> None:
    sha = world.remote.commit({"data/ci-matrix.yaml": TWO_STAGES})
    add_pull(world.github, 9, sha, [])
    world.command(9, "help", MAINTAINER)
    wait_for("the help", lambda: len(world.bot_comments()) == 1)
    assert world.bot_comments() == [help_text()]


def test_a_deploy_command_without_a_deploy_configuration_says_where_it_is_read(
    world: World,
) -> None:
    sha = world.remote.commit({"data/ci-matrix.yaml": TWO_STAGES})
    add_pull(world.github, 15, sha, [])
    comment = world.command(15, "rollback", MAINTAINER, env="production", sha="abc1234")
    wait_for("the answer", lambda: len(world.bot_comments()) == 1)
    [answer] = world.bot_comments()
    assert "data/deploy.yaml:1: the file does not exist on main" in answer
    assert "read from the default branch (`main`)" in answer
    wait_for("😕", lambda: any(r["content"] == "confused" for r in world.github.reactions()))
    assert comment in world.github.state.reactions


def test_malformed_matrix_is_one_failed_check_run(world: World) -> None:
    broken = (
        "stages:\n  - name: lint\n    command: [ruff]\n    timeout_s: 5\n"
        "    triggers: [pr, sometimes]\n"
    )
    sha = world.remote.commit({"data/ci-matrix.yaml": broken})
    add_pull(world.github, 10, sha, ["x.py"])
    send_pipeline(world.app, 10, sha)
    wait_for("the matrix check run", settled(world.github, world.redis, sha, 1))

    [run] = runs_for(world.github, sha).values()
    assert (run["name"], run["conclusion"]) == ("deploybot/matrix", "failure")
    assert "data/ci-matrix.yaml:5: " in run["output"]["summary"]
    assert "sometimes" in run["output"]["summary"]


def test_matrix_comes_from_the_default_branch_not_the_pull_request(world: World) -> None:
    world.remote.commit({"data/ci-matrix.yaml": TWO_STAGES}, "main")
    world.remote.branch("feature")
    only_greet = matrix(python_stage("greet", "print('the PR changed the rules')", 0))
    sha = world.remote.commit({"data/ci-matrix.yaml": only_greet}, "PR rewrites the matrix")
    add_pull(world.github, 11, sha, ["data/ci-matrix.yaml"])
    send_pipeline(world.app, 11, sha)
    wait_for("the pipeline", settled(world.github, world.redis, sha, 2))
    assert runs_for(world.github, sha)["deploybot/lint"]["conclusion"] == "failure"


def test_release_tag_reports_its_stages_and_says_it_staged_nothing_without_a_registry(
    world: World,
) -> None:
    stages = matrix(
        python_stage("build", "print('built')", 0),
        python_stage("full-eval", "print('score 0.97')", 1),
    )
    sha = world.remote.commit({"data/ci-matrix.yaml": stages})
    release = contract.RunRelease(
        installation_id=INSTALLATION,
        repo=REPO,
        tag="v1.2.0",
        sha=sha,
        default_branch="main",
        delivery_id=delivery(),
    )
    contract.send(world.app, release)
    wait_for("the release check runs", settled(world.github, world.redis, sha, 2))

    runs = runs_for(world.github, sha)
    gate = runs["deploybot/gate"]
    assert (gate["conclusion"], gate["output"]["title"]) == ("neutral", "Not staged: no registry")
    assert "DEPLOYBOT_REGISTRY is not set" in gate["output"]["summary"]
    run = runs["deploybot/release"]
    assert run["history"] == ["queued", "in_progress", "completed"]
    assert run["conclusion"] == "success"
    assert run["output"]["title"] == "v1.2.0: all stages passed"
    assert "| build | success |" in run["output"]["summary"]
    assert "| full-eval | success |" in run["output"]["summary"]

    rerun = contract.Rerun(
        installation_id=INSTALLATION,
        repo=REPO,
        scope="stage",
        stage="release",
        check_suite_id=1,
        check_run_id=run["id"],
        sha=sha,
        pr_number=None,
        delivery_id=delivery(),
    )
    contract.send(world.app, rerun)
    wait_for("the re-run release", settled(world.github, world.redis, sha, 4))
    releases = [r for r in world.github.check_runs() if r["name"] == "deploybot/release"]
    assert [r["conclusion"] for r in releases] == ["success", "success"]


def test_nightly_run_tests_the_default_branch_and_tells_oncall(
    github: FakeGitHub,
    settings: Settings,
    redis_client: redis.Redis,
    start_worker: WorkerFactory,
    tmp_path: Path,
) -> None:
    remote, app = connected(github, settings, tmp_path, oncall_issue=99)
    github.add_issue(REPO, 99, "CI on-call")
    stages = matrix(
        python_stage("lint", "print('pr only')", 0),
        stage("security", [PYTHON, "-c", "raise SystemExit(3)"], 1, triggers="[pr, nightly]"),
    )
    sha = remote.commit({"data/ci-matrix.yaml": stages})
    with start_worker(app):
        push = contract.RecordPush(
            installation_id=INSTALLATION, repo=REPO, branch="main", sha=sha, delivery_id=delivery()
        )
        contract.send(app, push)
        wait_for("the push to be recorded", lambda: default_branch(redis_client, REPO) == "main")
        contract.send(app, contract.Scheduled(trigger="nightly"))
        wait_for("the nightly run", settled(github, redis_client, sha, 1))
        wait_for("the on-call comment", lambda: bool(github.comments()))

    [run] = runs_for(github, sha).values()
    assert (run["name"], run["conclusion"]) == ("deploybot/security", "failure")
    [comment] = github.comments()
    assert comment["issue_number"] == 99
    assert comment["body"].startswith(f"The nightly CI run on `main` at `{sha[:10]}` failed")
    assert "[security](https://github.example/" in comment["body"]


def test_did_you_mean_help_is_posted_only_for_those_who_may_run_commands(world: World) -> None:
    add_pull(world.github, 12, "c" * 40, [])
    before = worker_samples()
    for sender in (OUTSIDER, MAINTAINER):
        comment_id = world.comment(12, "/delpoy", sender)
        help_job = contract.CommandHelp(
            installation_id=INSTALLATION,
            repo=REPO,
            pr_number=12,
            comment_id=comment_id,
            sender=sender,
            message=f"`/delpoy` is not a command. Did you mean `/deploy`? ({sender})",
            delivery_id=delivery(),
        )
        contract.send(world.app, help_job)
    wait_for("both help jobs", lambda: jobs_ended(before, contract.CommandHelp.NAME) == 2)
    assert world.bot_comments() == [
        f"`/delpoy` is not a command. Did you mean `/deploy`? ({MAINTAINER})"
    ]


def test_a_redelivered_command_answers_once(world: World) -> None:
    add_pull(world.github, 13, "d" * 40, [])
    comment_id = world.comment(13, "/help", MAINTAINER)
    job = command_message(13, comment_id, MAINTAINER, "help", delivery_id="delivery-13")
    before = worker_samples()
    contract.send(world.app, job)
    # Answered and ended: a redelivery comes after that (a lost ack, a broker restore).
    wait_for("the answer", lambda: jobs_ended(before, contract.RunCommand.NAME) == 1)
    assert len(world.bot_comments()) == 1
    contract.send(world.app, job)
    wait_for("the redelivered job", lambda: jobs_ended(before, contract.RunCommand.NAME) == 2)
    assert world.bot_comments() == [help_text()]


def test_a_reply_and_reaction_github_applied_but_answered_502_for_are_not_doubled(
    world: World,
) -> None:
    sha = world.remote.commit({"data/ci-matrix.yaml": TWO_STAGES})
    add_pull(world.github, 14, sha, [])
    world.github.fail_next("POST", r"/reactions$", 502, applied=True)
    world.github.fail_next("POST", r"/issues/14/comments$", 502, applied=True)
    before = worker_samples()
    world.command(14, "help", MAINTAINER)
    wait_for("the command job", lambda: jobs_ended(before, contract.RunCommand.NAME) == 1)

    assert world.bot_comments() == [help_text()]
    [reaction] = world.github.reactions()
    assert reaction["content"] == "eyes"
    posts = [(r.operation_id, r.status) for r in world.github.requests if r.method == "POST"]
    assert ("issues/create-comment", 502) in posts
    assert ("issues/create-comment", 201) not in posts
    # A reaction that exists already is answered 200: repeating that POST is harmless.
    assert ("reactions/create-for-issue-comment", 502) in posts
