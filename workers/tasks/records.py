"""Record tasks: facts the receiver hands over for later (merges, default heads, installations)."""

from __future__ import annotations

from typing import Any

from celery import Task

from core.contract import RecordInstallation, RecordMerge, RecordPush
from workers import records, worker


def merge(task: Task[Any, Any], message: RecordMerge) -> None:
    """A merged pull request's merge commit, which a later /deploy deploys."""
    records.record_merge(
        worker.app_of(task).redis,
        message.repo,
        message.pr_number,
        message.merge_commit_sha,
        message.base_ref,
    )


def push(task: Task[Any, Any], message: RecordPush) -> None:
    """The default branch's newest commit."""
    records.record_push(
        worker.app_of(task).redis,
        message.installation_id,
        message.repo,
        message.branch,
        message.sha,
    )


def installation(task: Task[Any, Any], message: RecordInstallation) -> None:
    """The App installed on, removed from or changed on an account."""
    records.record_installation(
        worker.app_of(task).redis, message.installation_id, message.action, message.account
    )
