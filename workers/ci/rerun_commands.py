"""CI's PR comment commands: /ok-to-test, /retest and /help, and the parser's "did you mean"."""

from __future__ import annotations

import logging

from redis.asyncio import Redis

from core import heads
from core.commands import help_text
from core.contract import CommandHelp, Rerun, RunCommand
from core.settings import Settings
from workers.ci import messages
from workers.ci.pull_state import PullState
from workers.github import RepoGitHub, repo_github
from workers.run_state import text
from workers.worker import Send

log = logging.getLogger(__name__)


def rerun_of(command: RunCommand, sha: str) -> Rerun:
    """A re-run of the pull request's head, as the receiver would queue one from the Checks UI."""
    return Rerun(
        installation_id=command.installation_id,
        repo=command.repo,
        scope="stage" if command.stage else "suite",
        stage=command.stage,
        check_suite_id=None,
        check_run_id=None,
        sha=sha,
        pr_number=command.pr_number,
        delivery_id=command.delivery_id,
    )


async def answer(settings: Settings, command: RunCommand, send: Send) -> None:
    """/ok-to-test, /retest or /help, from someone with write access."""
    async with repo_github(settings, command.installation_id, command.repo) as gh:
        if not await gh.can_write(command.sender):
            reply = messages.needs_write(command.command, command.sender)
            await gh.comment(command.pr_number, reply)
            return
        await gh.react(command.comment_id, "eyes")
        if command.command == "help":
            await gh.comment(command.pr_number, help_text())
        elif command.command in {"ok-to-test", "retest"}:
            await _rerun(settings, gh, command, send)
        else:
            log.warning("command /%s has no handler; ignored", command.command)


async def _rerun(settings: Settings, gh: RepoGitHub, command: RunCommand, send: Send) -> None:
    pull = await gh.pull(command.pr_number)
    if command.command == "ok-to-test":
        redis = Redis.from_url(settings.redis_url)
        try:
            refusal = await _approve(redis, command, pull.head_sha)
        finally:
            await redis.aclose()
        if refusal is not None:
            await gh.comment(command.pr_number, refusal)
            return
    send(rerun_of(command, pull.head_sha))


async def _approve(redis: Redis, command: RunCommand, head: str) -> str | None:
    """Approve the head the maintainer saw, or say why not: `/ok-to-test <sha>` names it; a bare
    `/ok-to-test` approves the head only if the receiver had seen it when the comment came, so
    a push racing the comment is never approved by it."""
    if command.sha is not None:
        if not head.startswith(command.sha):
            return messages.ok_to_test_not_head(command.sha, head)
    else:
        seen = await redis.hget(heads.key(command.repo, command.pr_number), head)
        if seen is None or heads.parse(text(seen)) > heads.parse(command.received_at):
            return messages.ok_to_test_moved(head)
    await PullState(redis, command.repo, command.pr_number).approve(head)
    return None


async def help_reply(settings: Settings, help_message: CommandHelp) -> None:
    async with repo_github(settings, help_message.installation_id, help_message.repo) as gh:
        if await gh.can_write(help_message.sender):
            await gh.comment(help_message.pr_number, help_message.message)
