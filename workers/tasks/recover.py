"""The recovery task: start again every run whose worker died; each resumes from Redis."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from redis.asyncio import Redis

from core.contract import Recover
from workers import run_state, worker
from workers.worker import WorkerApp

log = logging.getLogger(__name__)


def recover(task: Task[Any, Any], message: Recover) -> None:
    """Beat runs this every minute, and each worker once after it starts."""
    app = worker.app_of(task)
    worker.run(task, _recover(app))


async def _recover(app: WorkerApp) -> None:
    redis = Redis.from_url(app.settings.redis_url)
    try:
        for key, lost in await run_state.orphans(redis):
            if await run_state.claim_resume(redis, key):
                log.warning("run %s lost its worker; starting it again", key)
                app.send(lost)
    finally:
        await redis.aclose()
