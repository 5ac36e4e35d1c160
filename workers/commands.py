"""PR comment commands the receiver queued: /ok-to-test, /retest, /help, and not-yet commands."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from core import task_names
from core.commands import help_text
from core.settings import Settings
from workers import messages
from workers.progress import PullState, RunRecord
from workers.report import Reporter, reporter

log = logging.getLogger(__name__)

# Sends a task by name with kwargs (the Celery app's send_task, bound to the right queue).
Send = Callable[[str, dict[str, Any]], None]


@dataclass(frozen=True)
class CommandRequest:
    installation_id: int
    repo: str
    pr_number: int
    comment_id: int
    sender: str
    command: str
    delivery_id: str
    stage: str | None = None


def rerun_kwargs(
    request: CommandRequest, sha: str, stage: str | None
) -> dict[str, str | int | None]:
    """A re-run of the pull request's head, as the receiver would queue one from the Checks UI."""
    return {
        "installation_id": request.installation_id,
        "repo": request.repo,
        "scope": "stage" if stage else "suite",
        "stage": stage,
        "check_suite_id": None,
        "check_run_id": None,
        "sha": sha,
        "pr_number": request.pr_number,
        "delivery_id": request.delivery_id,
    }


async def _once(settings: Settings, delivery_id: str, work: Coroutine[Any, Any, None]) -> None:
    """Run `work` once per delivery: a redelivered task finds it done and posts nothing."""
    redis = Redis.from_url(settings.redis_url)
    try:
        done = RunRecord(redis, f"command:{delivery_id}")
        if await done.finished():
            work.close()
            return
        await work
        await done.finish()
    finally:
        await redis.aclose()


async def run(settings: Settings, request: CommandRequest, send: Send) -> None:
    await _once(settings, request.delivery_id, _act(settings, request, send))


async def _act(settings: Settings, request: CommandRequest, send: Send) -> None:
    async with reporter(settings, request.installation_id, request.repo) as gh:
        if not await gh.can_write(request.sender):
            reply = messages.needs_write(request.command, request.sender)
            await gh.comment(request.pr_number, reply)
            return
        await gh.react(request.comment_id, "eyes")
        if request.command in messages.NOT_IMPLEMENTED:
            await gh.comment(request.pr_number, messages.not_implemented(request.command))
        elif request.command == "help":
            await gh.comment(request.pr_number, help_text())
        elif request.command in {"ok-to-test", "retest"}:
            await _rerun(settings, gh, request, send)
        else:
            log.warning("command /%s has no handler; ignored", request.command)


async def _rerun(settings: Settings, gh: Reporter, request: CommandRequest, send: Send) -> None:
    pull = await gh.pull(request.pr_number)
    if request.command == "ok-to-test":
        redis = Redis.from_url(settings.redis_url)
        try:
            await PullState(redis, request.repo, request.pr_number).approve(pull.head_sha)
        finally:
            await redis.aclose()
    send(task_names.RERUN, rerun_kwargs(request, pull.head_sha, request.stage))


async def help_reply(settings: Settings, request: CommandRequest, message: str) -> None:
    """The receiver's "did you mean" help, posted only for someone who may run commands."""
    await _once(settings, request.delivery_id, _help(settings, request, message))


async def _help(settings: Settings, request: CommandRequest, message: str) -> None:
    async with reporter(settings, request.installation_id, request.repo) as gh:
        if await gh.can_write(request.sender):
            await gh.comment(request.pr_number, message)
