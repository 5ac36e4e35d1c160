"""issue_comment events: commands in new pull-request comments become command jobs."""

from __future__ import annotations

from datetime import datetime, timedelta

from gidgethub import routing, sansio

from bot import payload
from bot.command_parser import Dropped, Reply, parse_comment
from bot.jobs import Context, Decision, Ignore, Job, on
from core import heads
from core.contract import CommandHelp, RunCommand

router = routing.Router()
# GitHub's own limit on a comment body.
MAX_COMMENT_CHARS = 65536
# GitHub delivers within seconds; a command delivery older than this by its own created_at is a
# replay (a redelivery by hand, a captured delivery sent again) and is not acted on: its author
# is told so once (the comment's key is claimed like any command's, so a replay is a duplicate).
STALE_AFTER = timedelta(minutes=5)


def comment(event: sansio.Event, context: Context) -> Decision:
    data = event.data
    if payload.absent(data, "issue", "pull_request"):
        return Ignore("comment on an issue, not a pull request")
    if payload.text(data, "comment", "user", "type", max_len=32) == "Bot":
        return Ignore("comment by a bot")
    body = payload.optional_text(data, "comment", "body", max_len=MAX_COMMENT_CHARS) or ""
    parsed = parse_comment(body)
    if parsed is None:
        return Ignore("no command in comment")
    if isinstance(parsed, Dropped):
        return Ignore(parsed.reason)
    created = payload.timestamp(data, "comment", "created_at")
    comment_id = payload.number(data, "comment", "id")
    where = {
        "installation_id": payload.installation_id(data),
        "repo": payload.repo_name(data),
        "pr_number": payload.number(data, "issue", "number"),
        "comment_id": comment_id,
        "sender": payload.text(data, "comment", "user", "login", max_len=100),
        "delivery_id": event.delivery_id,
    }
    key = f"comment:{payload.number(data, 'repository', 'id')}:{comment_id}"
    if context.received_at - created > STALE_AFTER:
        return Job(CommandHelp.from_kwargs({**where, "message": stale(created)}), key)
    if isinstance(parsed, Reply):
        # The job posts it only if the author may run commands.
        return Job(CommandHelp.from_kwargs({**where, "message": parsed.message}), key)
    command = RunCommand.from_kwargs(
        {
            **where,
            "received_at": heads.stamp(context.received_at),
            "command": parsed.name,
            "env": parsed.env,
            "sha": parsed.sha,
            "stage": parsed.stage,
            "dry_run": parsed.dry_run,
            "accept_inconclusive": parsed.accept_inconclusive,
            "break_glass": parsed.break_glass,
            "reason": parsed.reason,
        }
    )
    return Job(command, key)


def stale(created: datetime) -> str:
    """The reply to a command that arrived too late to be trusted."""
    return (
        f"This command was not run: its comment was created at {created:%Y-%m-%dT%H:%M:%SZ}, "
        f"more than {STALE_AFTER.seconds // 60} minutes before it reached deploybot (a delayed "
        "or replayed delivery). Comment the command again to run it."
    )


on(router, comment, "issue_comment", action="created")
