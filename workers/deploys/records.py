"""What the workers remember of a GitHub-driven deploy or rollback, in Redis: the ids of its
check run, deployment and summary comments and the engine's run id, recorded before each is acted
on, so a copy of the task that runs after a worker died finds them and makes them true."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from typing import Any, Final

from redis.asyncio import Redis

from deploy.engine import Result
from workers.run_state import PREFIX, RECORD_TTL_S, text

DEPLOYS: Final = f"{PREFIX}:deploys"


@dataclass(frozen=True)
class Record:
    """One deploy or rollback asked from GitHub, keyed by the delivery that asked for it."""

    delivery_id: str
    kind: str  # deploy | rollback
    env: str
    commit: str  # the release it puts live
    by: str
    pr: int | None
    run_id: str  # the engine's id for it in the ledger
    before: str | None = None  # the release live when it began
    named: bool = True  # the asker named the release (a rollback without `to` did not)
    queued: bool = False  # a queued deploy whose pull request was told its place
    # A deploy let into a freeze window by --break-glass: who, why, and the window it broke.
    broke_glass: dict[str, str] | None = None
    check_run_id: int | None = None
    check_url: str | None = None
    deployment_id: int | None = None
    comment_id: int | None = None  # the pull request's summary comment
    oncall_comment_id: int | None = None  # the on-call issue's comment for this run
    finished: bool = False
    outcome: dict[str, Any] | None = None  # how it ended (deploy.engine.Result), once finished

    @property
    def ended(self) -> Result | None:
        """How it ended, once finished. A record the previous version wrote has no commit in its
        outcome (it was the record's own)."""
        return Result(**{"commit": self.commit, **self.outcome}) if self.outcome else None


class Records:
    def __init__(self, redis: Redis, repo: str) -> None:
        self._redis = redis
        self._repo = repo

    def _key(self, delivery_id: str) -> str:
        return f"{DEPLOYS}:run:{self._repo}:{delivery_id}"

    async def get(self, delivery_id: str) -> Record | None:
        raw = await self._redis.get(self._key(delivery_id))
        return Record(**json.loads(text(raw))) if raw is not None else None

    async def put(self, record: Record) -> Record:
        await self._redis.set(
            self._key(record.delivery_id), json.dumps(asdict(record)), ex=RECORD_TTL_S
        )
        if record.check_run_id is not None:
            await self._redis.set(
                f"{DEPLOYS}:check:{self._repo}:{record.check_run_id}",
                record.delivery_id,
                ex=RECORD_TTL_S,
            )
        return record

    async def update(self, record: Record, **changes: Any) -> Record:
        return await self.put(replace(record, **changes))

    async def of_check_run(self, check_run_id: int) -> Record | None:
        """The run whose deploybot/deploy check run this is."""
        delivery = await self._redis.get(f"{DEPLOYS}:check:{self._repo}:{check_run_id}")
        return await self.get(text(delivery)) if delivery is not None else None

    async def summary_comment(self, pr: int) -> int | None:
        """The pull request's on-call summary comment, edited in place by every run on it."""
        found = await self._redis.get(f"{DEPLOYS}:comment:{self._repo}#{pr}")
        return int(text(found)) if found is not None else None

    async def set_summary_comment(self, pr: int, comment_id: int) -> None:
        await self._redis.set(f"{DEPLOYS}:comment:{self._repo}#{pr}", comment_id, ex=RECORD_TTL_S)

    async def set_pull_of(self, commit: str, pr: int) -> None:
        """The pull request a release was deployed from (what the summary names)."""
        await self._redis.hset(f"{DEPLOYS}:pulls:{self._repo}", commit, pr)

    async def pull_of(self, commit: str | None) -> int | None:
        if commit is None:
            return None
        found = await self._redis.hget(f"{DEPLOYS}:pulls:{self._repo}", commit)
        return int(text(found)) if found is not None else None


@dataclass(frozen=True)
class Home:
    """The repository (and its App installation) an environment is deployed from on GitHub:
    where news of it that no pull request asked for (a failover) is told."""

    repo: str
    installation_id: int


async def remember_home(redis: Redis, env: str, home: Home) -> None:
    await redis.set(f"{DEPLOYS}:home:{env}", json.dumps(asdict(home)))


async def home_of(redis: Redis, env: str) -> Home | None:
    raw = await redis.get(f"{DEPLOYS}:home:{env}")
    return Home(**json.loads(text(raw))) if raw is not None else None


async def told(redis: Redis, what: str) -> bool:
    """Whether `what` was told on GitHub already (a redelivered task stays quiet)."""
    return bool(await redis.exists(f"{DEPLOYS}:told:{what}"))


async def mark_told(redis: Redis, what: str) -> None:
    await redis.set(f"{DEPLOYS}:told:{what}", "1", ex=RECORD_TTL_S)
