"""Claim a delivery and queue its job in one atomic Redis script (exactly once)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Final, Literal

from celery import Celery
from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.envelope import task_message
from bot.jobs import Job
from core import heads
from core.errors import QueueUnavailable

# GitHub lets a delivery be redelivered by hand for 3 days; remember ids a little longer.
SEEN_TTL_S: Final = 3 * 24 * 3600 + 3600
NOTE_TTL_S: Final = heads.TTL_S

# KEYS: delivery key, queue list, logical key, [note hash]. ARGV: TTL, task message, delivery
# id, [note field, note value, note TTL]. Claiming and queueing are one step. Redis runs a script
# alone but does not roll it back, so the push, the only write that can fail, comes before the
# claims: a failure leaves nothing claimed and nothing queued (GitHub may redeliver), a success
# leaves both, and there is no release or cleanup path. The note (a fact the delivery states,
# e.g. a head commit seen) is recorded whenever the delivery is new, queued or not. Returns 0
# (queued), 1 (delivery already seen) or 2 (another delivery already queued this change; this
# delivery id is then remembered as handled).
_CLAIM_AND_QUEUE: Final = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 1 end
local outcome = 2
if redis.call('EXISTS', KEYS[3]) == 0 then
  redis.call('LPUSH', KEYS[2], ARGV[2])
  redis.call('SET', KEYS[3], ARGV[3], 'EX', ARGV[1])
  outcome = 0
end
redis.call('SET', KEYS[1], 'seen', 'EX', ARGV[1])
if #KEYS == 4 then
  redis.call('HSETNX', KEYS[4], ARGV[4], ARGV[5])
  redis.call('EXPIRE', KEYS[4], ARGV[6])
end
return outcome
"""

Outcome = Literal["queued", "duplicate delivery", "duplicate event"]
_OUTCOMES: Final[dict[int, Outcome]] = {0: "queued", 1: "duplicate delivery", 2: "duplicate event"}


@dataclass(frozen=True)
class Accepted:
    outcome: Outcome
    task_id: str | None = None


class Enqueuer:
    """Sends a job by task name to the queue Celery workers consume, at most once per delivery."""

    def __init__(self, redis: Redis, celery: Celery, *, prefix: str = "deploybot") -> None:
        self._celery = celery
        self._prefix = prefix
        self._script = redis.register_script(_CLAIM_AND_QUEUE)

    async def accept(self, delivery_id: str, job: Job) -> Accepted:
        task_id = str(uuid.uuid4())
        message = task_message(self._celery, job.message, task_id)
        keys = [
            f"{self._prefix}:delivery:{delivery_id}",
            job.message.queue,
            f"{self._prefix}:event:{job.logical_key}",
        ]
        args: list[str | int] = [SEEN_TTL_S, message, delivery_id]
        if job.note is not None:
            keys.append(job.note.key)
            args += [job.note.field, job.note.value, NOTE_TTL_S]
        try:
            code = await self._script(keys=keys, args=args)
        except RedisError as exc:
            raise QueueUnavailable(f"queue unavailable ({exc.__class__.__name__})") from exc
        outcome = _OUTCOMES[int(code)]
        return Accepted(outcome, task_id if outcome == "queued" else None)
