"""Command tasks: PR comment commands, the parser's help, check-run buttons, deploys, and the
news of a failover."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from redis.asyncio import Redis

from core.contract import CheckRunAction, CommandHelp, FailedOver, RunCommand, RunDeploy
from workers import commands, deploy_commands, failover, worker

log = logging.getLogger(__name__)


def run_command(task: Task[Any, Any], message: RunCommand) -> None:
    """A command the parser accepted."""
    app = worker.app_of(task)
    worker.run(task, commands.run(app.settings, message, app.send))


def post_help(task: Task[Any, Any], message: CommandHelp) -> None:
    """The parser's "did you mean" help, for someone who may run commands."""
    worker.run(task, commands.help_reply(worker.app_of(task).settings, message))


def check_run_action(task: Task[Any, Any], message: CheckRunAction) -> None:
    """A button on a deploy check run: Roll back."""
    worker.run(task, deploy_commands.button(worker.app_of(task).settings, message))


def run_deploy(task: Task[Any, Any], message: RunDeploy) -> None:
    """A /deploy the command task accepted: staged if need be, then deployed."""
    worker.run(task, deploy_commands.run_deploy(worker.app_of(task).settings, message))


def failed_over(task: Task[Any, Any], message: FailedOver) -> None:
    """The proxy's watcher moved traffic off a dead colour: the on-call issue hears it."""
    app = worker.app_of(task)
    worker.run(task, _tell(app, message))


async def _tell(app: worker.WorkerApp, message: FailedOver) -> None:
    async with Redis.from_url(app.settings.redis_url) as redis:
        await failover.tell(app.settings, redis, message)
