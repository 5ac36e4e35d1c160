"""A pull request's pipeline end to end: real Redis, a real worker, the fake GitHub, a real repo."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import redis
from celery import Celery

from core.contract import RunPipeline
from core.names import CI_SUMMARY_MARKER
from core.settings import Settings
from testkit.fakegithub.server import FakeGitHub
from tests.conftest import Samples, WorkerFactory, counted, worker_samples
from tests.workers.harness import (
    REPO,
    add_pull,
    connected,
    matrix,
    python_stage,
    runs_for,
    send_pipeline,
    settled,
    stage,
    wait_for,
)
from workers import messages

# The test run's own ruff: stages see the worker's interpreter installation read-only.
RUFF = str(Path(sys.prefix) / "bin" / "ruff")
BAD_PY = '"""A module with an unused import."""\n\nimport os\n'
# One passing stage, one failing lint stage, one path-filtered stage, one expensive stage.
FOUR_STAGES = matrix(
    python_stage("greet", "print('hello from the stage')", 0),
    stage(
        "lint",
        [RUFF, "check", "--no-cache", "--isolated", "--output-format=concise", "."],
        1,
    ),
    python_stage("eval", "print('evaluating')", 2, paths="[tutor/, data/]"),
    python_stage("test", "print('testing')", 3),
)
ONE_STAGE = matrix(python_stage("greet", "print(1)", 0))
# Only what a pipeline is expected to ask of GitHub.
PIPELINE_OPERATIONS = {
    "apps/create-installation-access-token",
    "pulls/get",
    "pulls/list-files",
    "checks/create",
    "checks/update",
    "issues/list-comments",
    "issues/create-comment",
    "issues/update-comment",
}


def one_stage_pull(
    github: FakeGitHub, settings: Settings, root: Path, number: int, changed: list[str]
) -> tuple[Celery, str]:
    """A worker app, and pull request `number` on a commit whose matrix has one passing stage."""
    remote, app = connected(github, settings, root)
    sha = remote.commit({"data/ci-matrix.yaml": ONE_STAGE})
    add_pull(github, number, sha, changed)
    return app, sha


def test_opened_pull_request_reports_each_stage(
    github: FakeGitHub,
    settings: Settings,
    redis_client: redis.Redis,
    start_worker: WorkerFactory,
    tmp_path: Path,
) -> None:
    remote, app = connected(github, settings, tmp_path)
    remote.commit({"data/ci-matrix.yaml": FOUR_STAGES, "ok.py": "VALUE = 1\n"}, "main")
    remote.branch("feature")
    sha = remote.commit({"bad.py": BAD_PY}, "add bad.py")
    add_pull(github, 1, sha, ["bad.py"])

    before = worker_samples()
    with start_worker(app):
        send_pipeline(app, 1, sha)
        wait_for("every check run to complete", settled(github, redis_client, sha, 4))
        wait_for("the pipeline's task to end", lambda: pipelines(before, "succeeded") == 1)

    after = worker_samples()
    stage_runs = "deploybot_stage_seconds_count"
    # The two stages that ran are timed with their conclusions; skipped and cancelled ones not.
    assert counted(before, after, stage_runs, stage="greet", conclusion="success") == 1
    assert counted(before, after, stage_runs, stage="lint", conclusion="failure") == 1
    assert counted(before, after, stage_runs, stage="test", conclusion="cancelled") == 0
    runs = runs_for(github, sha)
    assert set(runs) == {"deploybot/greet", "deploybot/lint", "deploybot/eval", "deploybot/test"}
    ran = ["queued", "in_progress", "completed"]
    assert runs["deploybot/greet"]["history"] == ran
    assert runs["deploybot/greet"]["conclusion"] == "success"
    assert runs["deploybot/greet"]["started_at"] is not None
    assert runs["deploybot/lint"]["history"] == ran
    assert runs["deploybot/lint"]["conclusion"] == "failure"
    [annotation] = runs["deploybot/lint"]["annotations"]
    assert (annotation["path"], annotation["start_line"]) == ("bad.py", 3)
    assert annotation["annotation_level"] == "failure"
    assert "F401" in annotation["message"] + str(annotation.get("title"))
    # Not touched by the diff: skipped, never started.
    assert runs["deploybot/eval"]["history"] == ["queued", "completed"]
    assert runs["deploybot/eval"]["conclusion"] == "skipped"
    assert "tutor/" in runs["deploybot/eval"]["output"]["summary"]
    # After the blocking lint failure the expensive stage does not run.
    assert runs["deploybot/test"]["history"] == ["queued", "completed"]
    assert runs["deploybot/test"]["conclusion"] == "cancelled"
    assert "lint" in runs["deploybot/test"]["output"]["summary"]

    [comment] = github.comments()
    assert comment["body"].startswith(CI_SUMMARY_MARKER)
    assert f"`{sha[:10]}`: failed" in comment["body"]
    for name, result in (("greet", "success"), ("lint", "failure"), ("eval", "skipped")):
        assert f"[{name}](https://github.example/{REPO}/runs/" in comment["body"]
        assert result in comment["body"]
    operations = Counter(r.operation_id for r in github.requests)
    assert set(operations) <= PIPELINE_OPERATIONS
    assert operations["checks/create"] == 4
    assert operations["issues/create-comment"] == 1


def test_newer_push_cancels_the_older_pipeline(
    github: FakeGitHub,
    settings: Settings,
    redis_client: redis.Redis,
    start_worker: WorkerFactory,
    tmp_path: Path,
    shared_dir: Path,
) -> None:
    gate = shared_dir / "gate"
    # The first stage holds the old pipeline until the newer push has started its own.
    wait_gate = (
        "import pathlib, time; "
        f"[time.sleep(0.05) for _ in iter(pathlib.Path({str(gate)!r}).exists, True)]"
    )
    remote, app = connected(github, settings, tmp_path)
    remote.commit(
        {
            "data/ci-matrix.yaml": matrix(
                python_stage("build", wait_gate, 0), python_stage("test", "pass", 1)
            )
        },
        "main",
    )
    remote.branch("feature")
    old = remote.commit({"a.py": "A = 1\n"})
    add_pull(github, 5, old, ["a.py"])

    with start_worker(app):
        send_pipeline(app, 5, old)
        wait_for(
            "the old build to start",
            lambda: runs_for(github, old).get("deploybot/build", {}).get("status") == "in_progress",
        )
        new = remote.commit({"a.py": "A = 2\n"})
        add_pull(github, 5, new, ["a.py"])
        send_pipeline(app, 5, new)
        wait_for("the new pipeline's check runs", lambda: len(runs_for(github, new)) == 2)
        gate.touch()
        wait_for("both pipelines to finish", settled(github, redis_client, new, 2))
        wait_for("the old pipeline to finish", settled(github, redis_client, old, 2))

    old_runs, new_runs = runs_for(github, old), runs_for(github, new)
    assert old_runs["deploybot/build"]["conclusion"] == "success"
    assert old_runs["deploybot/test"]["conclusion"] == "cancelled"
    assert old_runs["deploybot/test"]["history"] == ["queued", "completed"]
    assert f"superseded by {new}" in old_runs["deploybot/test"]["output"]["summary"]
    assert {r["conclusion"] for r in new_runs.values()} == {"success"}
    # Still one summary comment, now about the newer commit.
    [comment] = github.comments()
    assert f"`{new[:10]}`: passed" in comment["body"]


def test_github_502_on_a_check_run_update_is_retried(
    github: FakeGitHub,
    settings: Settings,
    redis_client: redis.Redis,
    start_worker: WorkerFactory,
    tmp_path: Path,
) -> None:
    app, sha = one_stage_pull(github, settings, tmp_path, 2, ["data/ci-matrix.yaml"])
    github.fail_next("PATCH", r"/check-runs/\d+$", 502, times=2)

    with start_worker(app):
        send_pipeline(app, 2, sha)
        wait_for("the check run to complete", settled(github, redis_client, sha, 1))

    [run] = runs_for(github, sha).values()
    assert run["history"] == ["queued", "in_progress", "completed"]
    assert run["conclusion"] == "success"
    failed = [r for r in github.requests if r.status == 502]
    assert [(r.method, r.operation_id) for r in failed] == [("PATCH", "checks/update")] * 2


def test_a_create_github_applied_but_answered_502_for_is_not_made_twice(
    github: FakeGitHub,
    settings: Settings,
    redis_client: redis.Redis,
    start_worker: WorkerFactory,
    tmp_path: Path,
) -> None:
    app, sha = one_stage_pull(github, settings, tmp_path, 2, ["data/ci-matrix.yaml"])
    # GitHub creates the run and the summary comment, then answers 502 all the same.
    github.fail_next("POST", r"/check-runs$", 502, applied=True)
    github.fail_next("POST", r"/issues/\d+/comments$", 502, applied=True)

    with start_worker(app):
        send_pipeline(app, 2, sha)
        wait_for("the check run to complete", settled(github, redis_client, sha, 1))

    [run] = [r for r in github.check_runs() if r["head_sha"] == sha]
    assert run["conclusion"] == "success"
    assert len(github.comments()) == 1
    answered = [(r.operation_id, r.status) for r in github.requests if r.method == "POST"]
    assert ("checks/create", 502) in answered
    assert ("issues/create-comment", 502) in answered
    assert ("checks/create", 201) not in answered
    assert ("issues/create-comment", 201) not in answered


def pipelines(before: Samples, outcome: str) -> float:
    """Tries of the pipeline task that ended with `outcome` since `before`."""
    jobs = "deploybot_jobs_total"
    return counted(before, worker_samples(), jobs, task=RunPipeline.NAME, outcome=outcome)


def test_redelivered_pipeline_does_not_post_again(
    github: FakeGitHub,
    settings: Settings,
    redis_client: redis.Redis,
    start_worker: WorkerFactory,
    tmp_path: Path,
) -> None:
    app, sha = one_stage_pull(github, settings, tmp_path, 3, ["x.py"])
    # GitHub's secondary rate limit on the first create: wait as told, then go on.
    github.fail_next("POST", r"/check-runs$", 403, headers={"retry-after": "1"})
    before = worker_samples()

    with start_worker(app):
        delivery = send_pipeline(app, 3, sha)
        wait_for("the pipeline", settled(github, redis_client, sha, 1))
        posted = len(github.requests)
        send_pipeline(app, 3, sha, delivery)
        wait_for("the redelivered copy to end", lambda: pipelines(before, "succeeded") == 2)

    [run] = runs_for(github, sha).values()
    assert run["conclusion"] == "success"
    assert [r.status for r in github.requests if r.operation_id == "checks/create"] == [403, 201]
    assert len(github.requests) == posted
    assert len(github.comments()) == 1
    # The rate limit was waited out inside the task: no try failed; the first copy and the
    # redelivered one (which found the run done) both succeeded.
    assert pipelines(before, "failed") == 0


def test_an_error_that_will_not_be_retried_fails_the_check_runs(
    github: FakeGitHub,
    settings: Settings,
    redis_client: redis.Redis,
    start_worker: WorkerFactory,
    tmp_path: Path,
) -> None:
    remote, app = connected(github, settings, tmp_path)
    stages = matrix(python_stage("one", "print(1)", 0), python_stage("two", "print(2)", 1))
    sha = remote.commit({"data/ci-matrix.yaml": stages})
    add_pull(github, 4, sha, ["x.py"])
    # GitHub refuses the first update (as it would a malformed body): no retry can help.
    github.fail_next("PATCH", r"/check-runs/\d+$", 422, message="Validation Failed")

    with start_worker(app):
        send_pipeline(app, 4, sha)
        wait_for("the check runs to be failed", settled(github, redis_client, sha, 2))

    runs = runs_for(github, sha)
    assert {run["conclusion"] for run in runs.values()} == {"failure"}
    assert {run["output"]["title"] for run in runs.values()} == {messages.INTERNAL_ERROR_TITLE}
