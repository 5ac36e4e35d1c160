"""Comment tasks: a PR comment command the parser accepted, sent to CI (workers/ci/) or to deploys
(workers/deploys/) by its name, and the parser's "did you mean" help."""

from __future__ import annotations

from typing import Any

from celery import Task

from core.commands import DEPLOY_COMMANDS
from core.contract import CommandHelp, RunCommand
from workers import run_state, worker
from workers.ci import rerun_commands
from workers.deploys import orders


def run_command(task: Task[Any, Any], message: RunCommand) -> None:
    """A command the parser accepted, answered once per delivery."""
    app = worker.app_of(task)
    if message.command in DEPLOY_COMMANDS:
        work = orders.answer(app.settings, message, app.send)
    else:
        work = rerun_commands.answer(app.settings, message, app.send)
    worker.run(task, run_state.once(app.settings.redis_url, message.delivery_id, work))


def post_help(task: Task[Any, Any], message: CommandHelp) -> None:
    """The parser's "did you mean" help, for someone who may run commands."""
    settings = worker.app_of(task).settings
    work = rerun_commands.help_reply(settings, message)
    worker.run(task, run_state.once(settings.redis_url, message.delivery_id, work))
