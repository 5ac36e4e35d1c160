"""The recovery task: start again every run whose worker died; each resumes from Redis. Queued
deploys keep their places meanwhile."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from redis.asyncio import Redis

from core.contract import Recover, RunDeploy
from workers import run_state, worker
from workers.deploys import drive
from workers.worker import WorkerApp

log = logging.getLogger(__name__)


def recover(task: Task[Any, Any], message: Recover) -> None:
    """Beat runs this every minute, and each worker once after it starts."""
    app = worker.app_of(task)
    worker.run(task, _recover(app))


async def _recover(app: WorkerApp) -> None:
    redis = Redis.from_url(app.settings.redis_url)
    try:
        runs = await run_state.listed(redis)
        for key, lost, lapsed in runs:
            if lapsed and await run_state.claim_resume(redis, key):
                log.warning("run %s lost its worker; starting it again", key)
                app.send(lost)
        waiting = [message for _, message, _ in runs if isinstance(message, RunDeploy)]
        await drive.keep_places(app.settings, waiting)
    finally:
        await redis.aclose()
