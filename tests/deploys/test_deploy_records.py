"""What the workers remember of a deploy asked from GitHub survives an upgrade: a record the
previous version wrote (its outcome without the commit) reads as the same end as one this
version writes."""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict
from typing import Any

import redis
from redis.asyncio import Redis

from deploy.engine import Result
from workers.deploys.records import DEPLOYS, Record, Records

REPO = "octo/tutor"
COMMIT = "c" * 40
# Exactly what the version before one outcome vocabulary stored for a finished deploy (its
# `Ended`: outcome, detail, step).
PREVIOUS: dict[str, Any] = {
    "delivery_id": "d-1",
    "kind": "deploy",
    "env": "production",
    "commit": COMMIT,
    "by": "boss",
    "pr": 4,
    "run_id": "0123456789ab",
    "before": "b" * 40,
    "named": True,
    "queued": False,
    "check_run_id": 7,
    "check_url": "https://github.example/octo/tutor/runs/7",
    "deployment_id": 8,
    "comment_id": 9,
    "oncall_comment_id": 10,
    "finished": True,
    "outcome": {"outcome": "failed", "detail": "health: 503 after 30 s", "step": "health"},
}


def _get(redis_url: str, delivery_id: str) -> Record | None:
    async def read() -> Record | None:
        async with Redis.from_url(redis_url) as client:
            return await Records(client, REPO).get(delivery_id)

    return asyncio.run(read())


def test_a_record_the_previous_version_wrote_reads_as_the_same_end(
    redis_url: str, redis_client: redis.Redis
) -> None:
    redis_client.set(f"{DEPLOYS}:run:{REPO}:d-1", json.dumps(PREVIOUS))
    record = _get(redis_url, "d-1")
    assert record is not None
    assert record.ended == Result("failed", COMMIT, "health: 503 after 30 s", "health")
    assert record.ended is not None
    assert not record.ended.ok
    assert (record.check_run_id, record.comment_id, record.finished) == (7, 9, True)


def test_a_record_this_version_writes_keeps_its_end_whole(
    redis_url: str, redis_client: redis.Redis
) -> None:
    ended = Result("done", COMMIT, "", None)
    written = Record(**{**PREVIOUS, "delivery_id": "d-2", "outcome": asdict(ended)})

    async def write() -> None:
        async with Redis.from_url(redis_url) as client:
            await Records(client, REPO).put(written)

    asyncio.run(write())
    record = _get(redis_url, "d-2")
    assert record == written
    assert record is not None
    assert record.ended == ended
    assert ended.ok
