"""Starting a run of matrix stages from a task, shared by the CI, schedule and release tasks."""

from __future__ import annotations

import functools
from typing import Any

from celery import Task
from redis.asyncio import Redis

from core.contract import Message, Rerun, RunRelease
from core.settings import Settings
from workers import worker
from workers.ci import branch_records, pipeline
from workers.ci.pipeline import Make, Pipeline
from workers.ci.stages import Request
from workers.ci.tag_release import Release
from workers.github import RepoGitHub


def start(task: Task[Any, Any], message: Message, request: Request, make: Make = Pipeline) -> None:
    """Run (or resume) the request's stages; `message` starts it again if this worker dies."""
    settings = worker.app_of(task).settings
    work = pipeline.run(settings, message, request, make, last_try=worker.last_try(task))
    worker.run(task, work)


def start_release(
    task: Task[Any, Any], message: RunRelease | Rerun, tag: str, default_branch: str | None
) -> None:
    """Release `tag` on the message's commit (a tag push, or the release check run's Re-run)."""
    redis = worker.app_of(task).redis
    branch = default_branch or branch_records.default_branch(redis, message.repo)
    branch_records.record_release(redis, message.repo, message.sha, tag, branch)
    request = Request(
        message.installation_id,
        message.repo,
        message.sha,
        message.delivery_id,
        trigger="release",
        default_branch=branch,
    )
    sender = message.sender if isinstance(message, RunRelease) else "a re-run"
    start(task, message, request, functools.partial(_release, tag=tag, sender=sender))


def _release(
    settings: Settings, redis: Redis, gh: RepoGitHub, request: Request, *, tag: str, sender: str
) -> Release:
    return Release(settings, redis, gh, request, tag, sender)
