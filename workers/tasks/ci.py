"""CI tasks: a pull request's pipeline, and re-runs asked from the Checks UI or by a command."""

from __future__ import annotations

from typing import Any

from celery import Task

from core.contract import Rerun, RunPipeline
from workers import worker
from workers.ci import branch_records
from workers.ci.stages import MATRIX_STAGE, Request
from workers.ci.tag_release import RELEASE_STAGE
from workers.tasks.runs import start, start_release


def run_pipeline(task: Task[Any, Any], message: RunPipeline) -> None:
    """CI for a pull request's head commit."""
    request = Request(
        message.installation_id, message.repo, message.sha, message.delivery_id, message.pr_number
    )
    start(task, message, request)


def rerun(task: Task[Any, Any], message: Rerun) -> None:
    """A re-run: the release check run's runs the whole release again; the failed "matrix"
    check run's tries the whole pipeline again; any other stage's runs that stage."""
    redis = worker.app_of(task).redis
    if message.scope == "stage" and message.stage == RELEASE_STAGE:
        released = branch_records.release_of(redis, message.repo, message.sha)
        if released is not None:
            tag, branch = released
            start_release(task, message, tag, branch)
            return
    one_stage = message.scope == "stage" and message.stage != MATRIX_STAGE
    request = Request(
        message.installation_id,
        message.repo,
        message.sha,
        message.delivery_id,
        message.pr_number,
        only=message.stage if one_stage else None,
        # Without a pull request to say which branch is the default, use the recorded one.
        default_branch=(
            branch_records.default_branch(redis, message.repo)
            if message.pr_number is None
            else None
        ),
    )
    start(task, message, request)
