"""issue_comment events: commands in new pull-request comments become command jobs."""

from __future__ import annotations

from typing import Any

from gidgethub import routing

from bot import payload
from bot.commands import Command, Dropped, Reply, parse_comment
from bot.jobs import Decision, Ignore, Job, Scalar, on
from core import task_names
from core.settings import Settings

router = routing.Router()
# GitHub's own limit on a comment body.
MAX_COMMENT_CHARS = 65536


def comment(data: Any, settings: Settings) -> Decision:
    if payload.absent(data, "issue", "pull_request"):
        return Ignore("comment on an issue, not a pull request")
    if payload.text(data, "comment", "user", "type", max_len=32) == "Bot":
        return Ignore("comment by a bot")
    body = payload.optional_text(data, "comment", "body", max_len=MAX_COMMENT_CHARS) or ""
    parsed = parse_comment(body, settings.environments)
    if parsed is None:
        return Ignore("no command in comment")
    if isinstance(parsed, Dropped):
        return Ignore(parsed.reason)
    comment_id = payload.number(data, "comment", "id")
    common: dict[str, Scalar] = {
        "installation_id": payload.installation_id(data),
        "repo": payload.repo_name(data),
        "pr_number": payload.number(data, "issue", "number"),
        "comment_id": comment_id,
        "sender": payload.text(data, "comment", "user", "login", max_len=100),
    }
    key = f"comment:{payload.number(data, 'repository', 'id')}:{comment_id}"
    if isinstance(parsed, Reply):
        # The job posts it only if the author may run commands.
        return Job(task_names.COMMAND_HELP, {**common, "message": parsed.message}, key)
    return Job(task_names.COMMAND, {**common, **_arguments(parsed)}, key)


def _arguments(command: Command) -> dict[str, str | None]:
    return {"command": command.name, "env": command.env, "sha": command.sha, "stage": command.stage}


on(router, comment, "issue_comment", action="created")
