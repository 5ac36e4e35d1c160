"""The release task: a pushed v* tag runs the matrix's release stages on the tagged commit."""

from __future__ import annotations

from typing import Any

from celery import Task

from core.contract import RunRelease
from workers.tasks.runs import start_release


def run_release(task: Task[Any, Any], message: RunRelease) -> None:
    """A pushed v* tag."""
    start_release(task, message, message.tag, message.default_branch)
