"""Freeze windows (pure): when deploys to an environment are held, from deploy.yaml's `freeze:`.

Each window starts at every time its five-field `cron` names, in its own IANA `timezone` (so
"Friday 17:00" stays 17:00 across a change of summer time), and lasts `duration` ("90m", "2h",
"3d", or combined: "1d12h", counted on the wall clock: "2h" across the night summer time ends
lasts three hours). A deploy inside one is refused unless an admin breaks the glass;
a rollback is never frozen (deploy/control.py decides).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

_DURATION: Final = re.compile(r"(?:(\d{1,4})d)?(?:(\d{1,5})h)?(?:(\d{1,6})m)?")
# A window longer than this is a typo, not a freeze (and would make every look-back slow).
MAX_DURATION: Final = timedelta(days=31)
# How far ahead the next window is looked for.
HORIZON: Final = timedelta(days=366)
# cronsim never returns its starting point itself; looking back from a hair after `now`
# includes a window that starts exactly now.
_HAIR: Final = timedelta(microseconds=1)


@dataclass(frozen=True)
class Window:
    """One `freeze:` entry of deploy.yaml, validated."""

    cron: str
    duration: str
    timezone: str
    reason: str

    @property
    def length(self) -> timedelta:
        length = parse_duration(self.duration)
        assert length is not None  # noqa: S101 - validated when deploy.yaml was read
        return length


@dataclass(frozen=True)
class Frozen:
    """One occurrence of a window: from `start` to `end`, in the window's time zone."""

    window: Window
    start: datetime
    end: datetime

    def describe(self, now: datetime) -> str:
        """The occurrence in words: why, and from when to when."""
        return (
            f"{self.window.reason} (from {_at(self.start)} until {_at(self.end)}, "
            f"{self.window.timezone}; {_left(self.end - now)} left)"
            if self.start <= now
            else f"{self.window.reason} (from {_at(self.start)} until {_at(self.end)}, "
            f"{self.window.timezone}; in {_left(self.start - now)})"
        )

    def to_json(self) -> dict[str, str]:
        return {
            "reason": self.window.reason,
            "start": self.start.isoformat(timespec="minutes"),
            "end": self.end.isoformat(timespec="minutes"),
            "timezone": self.window.timezone,
            "cron": self.window.cron,
            "duration": self.window.duration,
        }


def parse_duration(text: str) -> timedelta | None:
    """ "90m", "2h", "3d", "1d12h": the length, or None when it is not one (or is zero)."""
    match = _DURATION.fullmatch(text.strip())
    if match is None or not any(match.groups()):
        return None
    days, hours, minutes = (int(group or 0) for group in match.groups())
    length = timedelta(days=days, hours=hours, minutes=minutes)
    return length if length > timedelta(0) else None


def problem(cron: str, duration: str, timezone: str) -> str | None:
    """What is wrong with a window's fields, in words (None: nothing)."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # "Europe" is a directory
        return f"timezone {timezone!r} is not an IANA time zone name (e.g. Europe/Madrid, UTC)"
    if len(cron.split()) != 5:
        return f"cron {cron!r} must be five fields (minute hour day month weekday)"
    try:
        CronSim(cron, datetime.now(zone))
    except CronSimError as exc:
        return f"cron {cron!r} is not five cron fields (minute hour day month weekday): {exc}"
    length = parse_duration(duration)
    if length is None:
        return f"duration {duration!r} must be minutes, hours or days: e.g. 90m, 2h, 3d, 1d12h"
    if length > MAX_DURATION:
        return f"duration {duration!r} is longer than {MAX_DURATION.days} days"
    return None


def current(windows: tuple[Window, ...], now: datetime) -> Frozen | None:
    """The window `now` is inside (of several, the one that ends last), or None."""
    inside = [f for f in (_last_start(w, now) for w in windows) if f is not None and now < f.end]
    return max(inside, key=lambda f: f.end, default=None)


def upcoming(windows: tuple[Window, ...], now: datetime) -> Frozen | None:
    """The next window to start after `now` (None: none within a year)."""
    found = [f for f in (_next_start(w, now) for w in windows) if f is not None]
    return min(found, key=lambda f: f.start, default=None)


def _last_start(window: Window, now: datetime) -> Frozen | None:
    zone = ZoneInfo(window.timezone)
    start = next(CronSim(window.cron, now.astimezone(zone) + _HAIR, reverse=True), None)
    if start is None:
        return None
    return Frozen(window, start, start + window.length)


def _next_start(window: Window, now: datetime) -> Frozen | None:
    zone = ZoneInfo(window.timezone)
    start = next(CronSim(window.cron, now.astimezone(zone)), None)
    if start is None or start > now + HORIZON:
        return None
    return Frozen(window, start, start + window.length)


def _at(when: datetime) -> str:
    return when.strftime("%a %Y-%m-%d %H:%M")


def _left(span: timedelta) -> str:
    minutes = max(0, int(span.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days}d"] * bool(days) + [f"{hours}h"] * bool(hours) + [f"{minutes}m"]
    return " ".join(parts[:2]) if days else " ".join(parts)
