"""Record tasks: facts the receiver hands over for later (the default branch's newest commit)."""

from __future__ import annotations

from typing import Any

from celery import Task

from core.contract import RecordPush
from workers import worker
from workers.ci import branch_records


def push(task: Task[Any, Any], message: RecordPush) -> None:
    """The default branch's newest commit."""
    branch_records.record_push(
        worker.app_of(task).redis,
        message.installation_id,
        message.repo,
        message.branch,
        message.sha,
    )
