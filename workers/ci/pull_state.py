"""Per pull request, in Redis: the head a pipeline started for, /ok-to-test approvals and the
summary comment's rows, id and lock."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Final

from redis.asyncio import Redis
from redis.asyncio.lock import Lock

from workers.run_state import PREFIX, RECORD_TTL_S, text

# Longer than one edit of the summary comment, GitHub retries included.
SUMMARY_LOCK_S: Final = 15


def digest(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()


class PullState:
    """Per pull request: the newest head SHA a pipeline started for, and /ok-to-test approvals."""

    def __init__(self, redis: Redis, repo: str, number: int) -> None:
        self._redis = redis
        self._key = f"{PREFIX}:pull:{repo}:{number}"

    async def set_head(self, sha: str) -> None:
        await self._redis.hset(self._key, "head", sha)
        await self._redis.expire(self._key, RECORD_TTL_S)

    async def head(self) -> str | None:
        value = await self._redis.hget(self._key, "head")
        return text(value) if value is not None else None

    async def approve(self, sha: str) -> None:
        await self._redis.hset(self._key, f"ok-to-test:{sha}", 1)
        await self._redis.expire(self._key, RECORD_TTL_S)

    async def approved(self, sha: str) -> bool:
        return bool(await self._redis.hexists(self._key, f"ok-to-test:{sha}"))

    async def set_row(self, sha: str, stage: str, row: dict[str, Any]) -> None:
        """The summary comment's line for one stage of `sha` (the latest run of that stage)."""
        await self._redis.hset(f"{self._key}:rows:{sha}", stage, json.dumps(row))
        await self._redis.expire(f"{self._key}:rows:{sha}", RECORD_TTL_S)

    async def rows(self, sha: str) -> dict[str, dict[str, Any]]:
        raw = await self._redis.hgetall(f"{self._key}:rows:{sha}")
        return {text(k): json.loads(text(v)) for k, v in raw.items()}

    async def comment(self) -> tuple[int | None, str | None]:
        """The summary comment's id and a digest of the body last posted there."""
        comment_id, digest = await self._redis.hmget(self._key, ["comment", "comment-digest"])
        return (
            int(text(comment_id)) if comment_id is not None else None,
            text(digest) if digest is not None else None,
        )

    async def set_comment(self, comment_id: int, body: str) -> None:
        mapping = {"comment": comment_id, "comment-digest": digest(body)}
        await self._redis.hset(self._key, mapping=mapping)  # type: ignore[arg-type]
        await self._redis.expire(self._key, RECORD_TTL_S)

    def lock(self) -> Lock:
        """Serialises edits of the PR's summary comment between pipelines. Short-lived, so that
        a worker killed while holding it delays the next edit by seconds, not minutes."""
        return self._redis.lock(
            f"{self._key}:lock", timeout=SUMMARY_LOCK_S, blocking_timeout=SUMMARY_LOCK_S + 5
        )
