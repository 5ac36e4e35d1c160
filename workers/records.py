"""Facts the receiver hands over for later: merges, default-branch heads, installations."""

from __future__ import annotations

import json
from typing import Any, Final

from redis import Redis

from workers.progress import PREFIX

MERGES: Final = f"{PREFIX}:merges"
DEFAULT_HEADS: Final = f"{PREFIX}:default-heads"
INSTALLATIONS: Final = f"{PREFIX}:installations"
RELEASES: Final = f"{PREFIX}:releases"


def _put(redis: Redis, key: str, field: str, value: dict[str, Any]) -> None:
    redis.hset(key, field, json.dumps(value, sort_keys=True))


def record_merge(redis: Redis, repo: str, pr_number: int, sha: str, base_ref: str) -> None:
    """The merge commit of a PR, which a later /deploy on that PR deploys."""
    _put(redis, MERGES, f"{repo}#{pr_number}", {"sha": sha, "base_ref": base_ref})


def record_push(redis: Redis, installation_id: int, repo: str, branch: str, sha: str) -> None:
    """The default branch's newest commit: what the nightly and weekly runs test."""
    _put(
        redis,
        DEFAULT_HEADS,
        repo,
        {"installation_id": installation_id, "branch": branch, "sha": sha},
    )


def record_installation(redis: Redis, installation_id: int, action: str, account: str) -> None:
    _put(redis, INSTALLATIONS, str(installation_id), {"action": action, "account": account})


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
