"""Scheduled tasks: nightly and weekly runs of the matrix on each default branch's head."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from celery import Task

from core.contract import Scheduled, ScheduledRepo
from workers import worker
from workers.ci import branch_records
from workers.ci.stages import Request
from workers.tasks.runs import start


def fan_out(task: Task[Any, Any], message: Scheduled) -> None:
    """A beat tick: one run per repository whose default branch moved."""
    app = worker.app_of(task)
    tick = f"{message.trigger}-{datetime.now(UTC):%Y%m%dT%H%M}"
    for repo, head in branch_records.default_heads(app.redis).items():
        app.send(
            ScheduledRepo(
                installation_id=int(head["installation_id"]),
                repo=repo,
                sha=str(head["sha"]),
                branch=str(head["branch"]),
                trigger=message.trigger,
                delivery_id=tick,
            )
        )


def run_repo(task: Task[Any, Any], message: ScheduledRepo) -> None:
    """One repository's scheduled run on its default branch's head."""
    request = Request(
        message.installation_id,
        message.repo,
        message.sha,
        message.delivery_id,
        trigger=message.trigger,
        default_branch=message.branch,
    )
    start(task, message, request)
