"""What CI remembers of a repository in Redis: its default branch's newest commit (what the nightly
and weekly runs test) and what each release check run was for."""

from __future__ import annotations

import json
from typing import Any, Final

from redis import Redis

from workers.run_state import PREFIX

DEFAULT_HEADS: Final = f"{PREFIX}:default-heads"
RELEASES: Final = f"{PREFIX}:releases"


def _put(redis: Redis, key: str, field: str, value: dict[str, Any]) -> None:
    redis.hset(key, field, json.dumps(value, sort_keys=True))


def record_push(redis: Redis, installation_id: int, repo: str, branch: str, sha: str) -> None:
    """The default branch's newest commit: what the nightly and weekly runs test."""
    _put(
        redis,
        DEFAULT_HEADS,
        repo,
        {"installation_id": installation_id, "branch": branch, "sha": sha},
    )


def record_release(redis: Redis, repo: str, sha: str, tag: str, branch: str | None) -> None:
    """What a release check run on `sha` was for, so its Re-run can release it again."""
    _put(redis, RELEASES, f"{repo}@{sha}", {"tag": tag, "default_branch": branch})


def release_of(redis: Redis, repo: str, sha: str) -> tuple[str, str | None] | None:
    """(tag, default branch) of the release last run on `sha`."""
    raw = redis.hget(RELEASES, f"{repo}@{sha}")
    if raw is None:
        return None
    found = json.loads(raw)
    return str(found["tag"]), found["default_branch"]


def default_heads(redis: Redis) -> dict[str, dict[str, Any]]:
    """repo -> {installation_id, branch, sha} for every repository whose default branch moved."""
    return {
        (k.decode() if isinstance(k, bytes) else str(k)): json.loads(v)
        for k, v in redis.hgetall(DEFAULT_HEADS).items()
    }


def default_branch(redis: Redis, repo: str) -> str | None:
    raw = redis.hget(DEFAULT_HEADS, repo)
    return str(json.loads(raw)["branch"]) if raw is not None else None
