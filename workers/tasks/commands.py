"""Command tasks: PR comment commands, the parser's help, and check-run buttons."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task

from core.contract import CheckRunAction, CommandHelp, RunCommand
from workers import commands, worker

log = logging.getLogger(__name__)


def run_command(task: Task[Any, Any], message: RunCommand) -> None:
    """A command the parser accepted."""
    app = worker.app_of(task)
    worker.run(task, commands.run(app.settings, message, app.send))


def post_help(task: Task[Any, Any], message: CommandHelp) -> None:
    """The parser's "did you mean" help, for someone who may run commands."""
    worker.run(task, commands.help_reply(worker.app_of(task).settings, message))


def check_run_action(task: Task[Any, Any], message: CheckRunAction) -> None:
    """A button on a deploy check run (deploy check runs do not exist yet: nothing asks this)."""
    log.warning(
        "check run action %r on %s by %s: not implemented yet",
        message.action,
        message.repo,
        message.sender,
    )
