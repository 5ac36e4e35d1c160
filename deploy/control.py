"""Deploy control (pure): whether a maintainer's hold (a sticky lock) or a freeze window lets a
run through, and what it passed on its way, for the command line and the workers alike.

A sticky lock refuses deploys by anyone but its holder; a freeze window refuses every deploy
unless the glass is broken (by someone allowed to override, which the caller checks). A rollback
is never refused by either: it puts back a release that worked, and says whose lock it passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from deploy.config import Environment
from deploy.freeze import Frozen, current
from deploy.sticky import Hold


@dataclass(frozen=True)
class Control:
    """What holds an environment now: a maintainer's sticky lock, a freeze window."""

    hold: Hold | None
    frozen: Frozen | None


@dataclass(frozen=True)
class Verdict:
    """What a run may do given the environment's control: refused (why: "locked" or "frozen"),
    or let through, with the lock it passed and whether it broke the glass."""

    control: Control
    refused: str | None = None
    passed_lock: Hold | None = None
    broke_glass: Frozen | None = None


def control(env: Environment, hold: Hold | None, now: datetime) -> Control:
    return Control(hold, current(env.freeze, now))


def decide(kind: str, who: str, found: Control, break_glass: bool) -> Verdict:
    """Whether a run of `kind` (deploy | rollback) asked by `who` goes through."""
    hold, frozen = found.hold, found.frozen
    others = hold if hold is not None and hold.who != who else None
    if kind != "deploy":
        return Verdict(found, passed_lock=others)
    if others is not None:
        return Verdict(found, refused="locked")
    if frozen is not None and not break_glass:
        return Verdict(found, refused="frozen")
    return Verdict(found, broke_glass=frozen)


def glass(by: str, reason: str, frozen: Frozen) -> dict[str, str]:
    """A freeze window's glass broken by a deploy, as its record and the ledger keep it."""
    return {
        "by": by,
        "reason": reason,
        "window": frozen.window.reason,
        "until": frozen.end.isoformat(timespec="minutes"),
    }
