"""What holds an environment besides a deploy, in Redis: sticky locks, and the freeze windows.

A sticky lock is an environment held by a maintainer (`/lock`, `deploybot lock`) until unlocked.
Unlike a deploy's lock (deploy/lock.py, a lease that lives as long as its run), it has no
lifetime and no run: it is a note saying who holds the environment, why and since when. No
deploy ever takes or releases it, so a successful deploy cannot clear it; only an unlock does.
What it refuses is decided in deploy/control.py.

Freeze windows live in deploy.yaml on the default branch; the workers remember each
environment's windows here whenever they read it, so the status page (which reads no repository)
shows the current and the next window as the last deploy command saw them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Final

import redis

from core.errors import LockUnavailable
from deploy.freeze import Window

PREFIX: Final = "deploybot:sticky-lock"
WINDOWS: Final = "deploybot:freeze-windows"
# Set only if free, or if the holder is the one asking (a new reason); the holder found
# otherwise. KEYS: the lock; ARGV: the new hold, its holder's name.
_HOLD: Final = """
local found = redis.call('GET', KEYS[1])
if found then
  local holder = cjson.decode(found)['who']
  if holder ~= ARGV[2] then return found end
end
redis.call('SET', KEYS[1], ARGV[1])
return ARGV[1]
"""


@dataclass(frozen=True)
class Hold:
    """Who holds an environment, why and since when (and the pull request it was asked on)."""

    who: str
    reason: str
    since: str
    pr: int | None = None

    def describe(self) -> str:
        where = f" on #{self.pr}" if self.pr is not None else ""
        return f"{self.who}{where} since {self.since}: {self.reason}"


def hold_now(who: str, reason: str, pr: int | None = None) -> Hold:
    return Hold(who, reason, datetime.now(UTC).isoformat(timespec="seconds"), pr)


def redis_call(work: Callable[[], Any], what: str) -> Any:
    """`work` (a Redis call); LockUnavailable saying what needs Redis when it did not answer."""
    try:
        return work()
    except redis.RedisError as exc:
        raise LockUnavailable(
            f"Redis did not answer ({exc.__class__.__name__}: {exc}); {what}: check "
            "DEPLOYBOT_REDIS_URL and that Redis is up (`deploybot doctor`)"
        ) from exc


class StickyLocks:
    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    def _call(self, work: Callable[[], Any]) -> Any:
        return redis_call(work, "the sticky locks and freeze windows are kept there")

    def held(self, environment: str) -> Hold | None:
        raw = self._call(lambda: self.client.get(f"{PREFIX}:{environment}"))
        return Hold(**json.loads(raw)) if raw else None

    def hold(self, environment: str, hold: Hold) -> Hold:
        """The environment held by `hold.who` (a new reason if it held it already); the hold in
        force afterwards: someone else's when another holds it."""
        script = self.client.register_script(_HOLD)
        key = f"{PREFIX}:{environment}"
        args = [json.dumps(asdict(hold)), hold.who]
        found = self._call(lambda: script(keys=[key], args=args))
        return Hold(**json.loads(found))

    def release(self, environment: str) -> Hold | None:
        """The environment let go; the hold it had (None: it was not held)."""
        found = self._call(lambda: self.client.getdel(f"{PREFIX}:{environment}"))
        return Hold(**json.loads(found)) if found else None

    def remember_windows(self, environment: str, windows: tuple[Window, ...]) -> None:
        """The environment's freeze windows as deploy.yaml has them now."""
        text = json.dumps([asdict(w) for w in windows])
        self._call(lambda: self.client.set(f"{WINDOWS}:{environment}", text))

    def windows(self, environment: str) -> tuple[Window, ...] | None:
        """The environment's freeze windows as last read (None: never read)."""
        raw = self._call(lambda: self.client.get(f"{WINDOWS}:{environment}"))
        return tuple(Window(**w) for w in json.loads(raw)) if raw else None
