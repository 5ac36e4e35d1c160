"""Deploy tasks: an accepted /deploy, the Roll back button of a deploy check run, and the news of
a failover."""

from __future__ import annotations

from typing import Any

from celery import Task
from redis.asyncio import Redis

from core.contract import CheckRunAction, FailedOver, RunDeploy
from workers import worker
from workers.deploys import failover, orders


def run(task: Task[Any, Any], message: RunDeploy) -> None:
    """A /deploy the command task accepted: staged if need be, then deployed."""
    settings = worker.app_of(task).settings
    worker.run(task, orders.run_deploy(settings, message, str(task.request.id)))


def roll_back_button(task: Task[Any, Any], message: CheckRunAction) -> None:
    """The Roll back button of a deploy check run, pressed."""
    worker.run(task, orders.button(worker.app_of(task).settings, message))


def failed_over(task: Task[Any, Any], message: FailedOver) -> None:
    """The proxy's watcher moved traffic off a dead colour: the on-call issue hears it."""
    worker.run(task, _tell(worker.app_of(task), message))


async def _tell(app: worker.WorkerApp, message: FailedOver) -> None:
    async with Redis.from_url(app.settings.redis_url) as redis:
        await failover.tell(app.settings, redis, message)
