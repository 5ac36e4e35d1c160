"""Pipeline progress in Redis: a redelivered or resumed task carries on instead of redoing."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Final

from redis.asyncio import Redis

from core import contract, leases
from core.contract import Message
from core.errors import LeaseHeld, PayloadError, WaitingTurn
from workers.conclusions import CONCLUSIONS

log = logging.getLogger(__name__)

PREFIX: Final = "deploybot:ci"
# Progress outlives the broker's visibility timeout (3 h), so a message restored that late
# finds its run finished and does nothing.
RECORD_TTL_S: Final = 7 * 24 * 3600
# A running pipeline renews its lease this often; a lease not renewed for LEASE_TTL_S means the
# worker died, and `recover` starts the pipeline again from its recorded progress.
LEASE_TTL_S: Final = 15
HEARTBEAT_S: Final = 5
# A stage whose worker died this many times is completed as failed rather than tried again.
MAX_STAGE_ATTEMPTS: Final = 2

ACTIVE: Final = f"{PREFIX}:active"
# The lease of a run whose task waits its turn: no owner's token (those are hex).
WAITING: Final = "waiting"
# A stage in one of these states is over.
FINAL_STATES: Final = CONCLUSIONS

# Renew the lease only while it is still ours.


def text(value: Any) -> str:
    """A Redis reply as text."""
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass(frozen=True)
class StageRecord:
    """What is known of one stage of one run."""

    run_id: int | None
    url: str | None
    state: str | None  # queued | in_progress | a conclusion
    attempts: int
    creating: bool  # a create was sent, maybe without reaching GitHub or being recorded


@dataclass(frozen=True)
class CreatedStage:
    """A stage whose check run exists."""

    name: str
    run_id: int
    url: str | None
    state: str | None


class RunRecord:
    """One run (a pipeline, a re-run, a release) of one commit, keyed by its delivery."""

    def __init__(self, redis: Redis, key: str) -> None:
        self._redis = redis
        self.key = key
        self._hash = f"{PREFIX}:run:{key}"

    async def _set(self, mapping: dict[str, str | int]) -> None:
        await self._redis.hset(self._hash, mapping=mapping)  # type: ignore[arg-type]
        await self._redis.expire(self._hash, RECORD_TTL_S)

    async def stage(self, name: str) -> StageRecord:
        fields = [f"run:{name}", f"url:{name}", f"state:{name}", f"attempts:{name}"]
        fields.append(f"creating:{name}")
        run_id, url, state, attempts, creating = await self._redis.hmget(self._hash, fields)
        return StageRecord(
            run_id=int(text(run_id)) if run_id is not None else None,
            url=text(url) if url is not None else None,
            state=text(state) if state is not None else None,
            attempts=int(text(attempts)) if attempts is not None else 0,
            creating=creating is not None,
        )

    async def creating(self, name: str) -> None:
        await self._set({f"creating:{name}": 1})

    async def created(self, name: str, run_id: int, url: str) -> None:
        await self._set({f"run:{name}": run_id, f"url:{name}": url, f"state:{name}": "queued"})

    async def set_state(self, name: str, state: str) -> None:
        await self._set({f"state:{name}": state})

    async def attempt(self, name: str) -> int:
        """Count one more start of the stage; returns the count including this one."""
        count = int(await self._redis.hincrby(self._hash, f"attempts:{name}", 1))
        await self._redis.expire(self._hash, RECORD_TTL_S)
        return count

    async def finish(self) -> None:
        await self._set({"finished": 1})

    async def states(self) -> dict[str, tuple[str, str | None]]:
        """Every stage's (state, check run URL)."""
        fields = {text(k): text(v) for k, v in (await self._redis.hgetall(self._hash)).items()}
        return {
            field.removeprefix("state:"): (state, fields.get("url:" + field.removeprefix("state:")))
            for field, state in fields.items()
            if field.startswith("state:")
        }

    async def mark(self, flag: str) -> None:
        await self._set({f"flag:{flag}": 1})

    async def marked(self, flag: str) -> bool:
        return bool(await self._redis.hexists(self._hash, f"flag:{flag}"))

    async def unfinished(self) -> list[CreatedStage]:
        """Stages whose check run exists and has not been completed by this run."""
        fields = {text(k): text(v) for k, v in (await self._redis.hgetall(self._hash)).items()}
        found = []
        for field, run_id in fields.items():
            name = field.removeprefix("run:")
            state = fields.get(f"state:{name}")
            if field.startswith("run:") and state not in FINAL_STATES:
                found.append(CreatedStage(name, int(run_id), fields.get(f"url:{name}"), state))
        return found

    async def finished(self) -> bool:
        return bool(await self._redis.hexists(self._hash, "finished"))


async def _take(redis: Redis, key: str, token: str, message: Message) -> bool:
    """Take the run's lease (unless another owner holds it) and list the run as active."""
    take = redis.register_script(leases.TAKE_UNLESS_HELD)
    if not await take(keys=[f"{PREFIX}:lease:{key}"], args=[token, WAITING, LEASE_TTL_S * 1000]):
        return False
    entry = {"task": message.NAME, "kwargs": message.kwargs()}
    await redis.hset(ACTIVE, key, json.dumps(entry))
    return True


def waiting_value(chain: str | None) -> str:
    """The lease's value while the chain of messages `chain` (a task id, kept by each message
    that asks again) waits the run's turn."""
    return f"{WAITING}:{chain}" if chain else WAITING


async def waiting(redis: Redis, key: str, message: Message, chain: str) -> bool:
    """List the run as active while its task waits its turn: asked again within seconds by a
    message a worker holds (a countdown), or not yet started at all (a message in the broker).
    A restart of that worker or of Redis drops such a message; the run's lease then lapses, and
    `recover` sends the run again. False: another chain of messages waits or runs it (this one
    is a copy sent by a recovery while that one still lived), and this one stops."""
    wait = redis.register_script(leases.WAIT)
    value = waiting_value(chain)
    if not await wait(keys=[f"{PREFIX}:lease:{key}"], args=[value, LEASE_TTL_S * 1000]):
        return False
    entry = {"task": message.NAME, "kwargs": message.kwargs()}
    await redis.hset(ACTIVE, key, json.dumps(entry))
    return True


@asynccontextmanager
async def lease(
    redis: Redis, key: str, message: Message, chain: str | None = None
) -> AsyncIterator[None]:
    """Hold the run's lease for the block, renewed in the background, and list the run as active
    (with the message that starts it again) while the block runs, or while it waits its turn
    after it (see `waiting`: the lease goes to the chain of messages `chain`)."""
    name = f"{PREFIX}:lease:{key}"
    token = uuid.uuid4().hex
    if not await _take(redis, key, token, message):
        raise LeaseHeld(f"run {key} is held by another worker", retry_after=LEASE_TTL_S + 1)
    renew = redis.register_script(leases.RENEW)

    async def heartbeat() -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            await renew(keys=[name], args=[token, LEASE_TTL_S * 1000])

    beating = asyncio.create_task(heartbeat())
    waits = False
    try:
        yield
    except WaitingTurn:
        waits = True
        raise
    finally:
        beating.cancel()
        if waits:
            # Still active: the lease goes to the message that asks again (see `waiting`).
            hand_over = redis.register_script(leases.HAND_OVER)
            args: list[str | int] = [token, waiting_value(chain), LEASE_TTL_S * 1000]
            await hand_over(keys=[name], args=args)
        else:
            # Ended in this process, even by an exception (the task's retry lists it again):
            # only a worker that dies leaves its run listed for `recover`.
            await redis.hdel(ACTIVE, key)
            await redis.register_script(leases.RELEASE)(keys=[name], args=[token])


async def listed(redis: Redis) -> list[tuple[str, Message, bool]]:
    """(key, message that starts it, whether its lease has lapsed: its worker died) of every
    run listed as active."""
    found = []
    for raw_key, raw in (await redis.hgetall(ACTIVE)).items():
        key = text(raw_key)
        entry = json.loads(text(raw))
        try:
            message = contract.parse(str(entry["task"]), dict(entry["kwargs"]))
        except PayloadError as exc:
            # Written by a version whose contract differed: it cannot be started again.
            log.error("run %s cannot be resumed (%s); dropped", key, exc)
            await redis.hdel(ACTIVE, key)
            continue
        found.append((key, message, not await redis.exists(f"{PREFIX}:lease:{key}")))
    return found


async def claim_resume(redis: Redis, key: str) -> bool:
    """True for exactly one recoverer of a lapsed run within a lease period."""
    return bool(await redis.set(f"{PREFIX}:resume:{key}", 1, nx=True, ex=LEASE_TTL_S))


async def once(redis_url: str, delivery_id: str, work: Coroutine[Any, Any, None]) -> None:
    """Run `work` once per delivery: a redelivered task finds it done and posts nothing."""
    redis = Redis.from_url(redis_url)
    try:
        done = RunRecord(redis, f"command:{delivery_id}")
        if await done.finished():
            work.close()
            return
        await work
        await done.finish()
    finally:
        await redis.aclose()
