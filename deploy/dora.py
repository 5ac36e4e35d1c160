"""The four DORA metrics of one environment, computed exactly from its deploy ledger (pure).

- Deployment frequency: deploys that put a release live (reached production, whatever happened
  next), per day over the window, and the number of days that had one.
- Lead time for changes: the median time from a release's commit to it going live (only for
  releases whose commit time the ledger carries).
- Change failure rate: deploys that were followed by a rollback, an automatic flip-back (a
  rollback during the bake included) or a failover of their dead colour to the spare, divided
  by the deploys that went live.
- Time to restore: the median time from a failure being detected (the bake's alert, or the
  rollback being asked for) to a healthy release being live again.

Definitions as dora.dev and dora-team/fourkeys give them; the ledger knows each event exactly, so
no incident labels or guesswork are needed.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from deploy.ledger import BEGIN, END, FAIL, FINISH, Entry

WINDOWS_DAYS = (7, 30)


@dataclass(frozen=True)
class Metrics:
    days: int
    deploys: int  # deploys that went live in the window
    per_day: float
    days_with_a_deploy: int
    lead_time_s: float | None  # median; None when no commit time is known
    change_failure_rate: float | None  # None with no deploy
    failures: int
    time_to_restore_s: float | None  # median; None with no restore


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _runs(entries: Sequence[Entry]) -> list[list[Entry]]:
    grouped: dict[str, list[Entry]] = {}
    for entry in entries:
        grouped.setdefault(entry.deploy, []).append(entry)
    return list(grouped.values())


def _went_live(run: list[Entry]) -> Entry | None:
    return next((e for e in run if e.step == "flip" and e.phase == END), None)


def _finish(run: list[Entry]) -> Entry | None:
    return next((e for e in run if e.step == FINISH), None)


def failures(entries: Sequence[Entry]) -> dict[str, float | None]:
    """Every deploy that failed in production (its run id), with how long the restore took:
    flipped back by its bake (alert → flip-back), or left by a rollback asked without a target
    (asked → the older release live). None when the restore's time is not known."""
    runs = _runs(entries)
    found: dict[str, float | None] = {}
    for index, run in enumerate(runs):
        finish = _finish(run)
        if finish is None:
            continue
        if run[0].kind == "deploy" and finish.outcome == "flipped-back":
            found[run[0].deploy] = _flip_back_restore(run)
        elif run[0].kind == "deploy" and finish.extra.get("rolled_back"):
            found[run[0].deploy] = _between(run, "reconcile")
        elif run[0].kind == "failover" and finish.outcome == "done":
            # The live colour died outside a deploy: a failure of the deploy that put it live,
            # restored from the watcher seeing it down to the spare serving.
            failed = _deploy_rolled_back(runs[:index], finish)
            if failed is not None:
                found.setdefault(failed, _between(run, "failover"))
        elif (
            run[0].kind == "rollback" and finish.outcome == "done" and finish.extra.get("left_bad")
        ):
            rolled_back = _deploy_rolled_back(runs[:index], finish)
            back = _went_live(run)
            if rolled_back is not None:
                took = (_at(back.at) - _at(run[0].at)).total_seconds() if back else None
                found.setdefault(rolled_back, took)
    return found


def metrics(entries: Sequence[Entry], now: datetime, days: int) -> Metrics:
    """The metrics over the `days` before `now`: deploys that went live in the window, and the
    failures among them."""
    since = now - timedelta(days=days)
    live = [
        (flip, run)
        for run in _runs(entries)
        if run[0].kind == "deploy"
        and (flip := _went_live(run)) is not None
        and since <= _at(flip.at) <= now
    ]
    failed = failures(entries)
    in_window = [failed[run[0].deploy] for _, run in live if run[0].deploy in failed]
    restores = [took for took in in_window if took is not None]
    leads = [
        (_at(flip.at) - _at(str(committed))).total_seconds()
        for flip, run in live
        if (committed := _committed_at(run)) is not None
    ]
    deploys = len(live)
    return Metrics(
        days=days,
        deploys=deploys,
        per_day=deploys / days,
        days_with_a_deploy=len({_at(flip.at).date() for flip, _ in live}),
        lead_time_s=statistics.median(leads) if leads else None,
        change_failure_rate=len(in_window) / deploys if deploys else None,
        failures=len(in_window),
        time_to_restore_s=statistics.median(restores) if restores else None,
    )


def _committed_at(run: list[Entry]) -> object | None:
    return next((e.extra["committed_at"] for e in run if "committed_at" in e.extra), None)


def _between(run: list[Entry], step: str) -> float | None:
    """From the begin of `step` to its end: a rollback that settled a baking deploy, from taking
    the lock over to the older release live."""
    begin = next((e for e in run if e.step == step and e.phase == BEGIN), None)
    end = next((e for e in run if e.step == step and e.phase == END), None)
    if begin is None or end is None:
        return None
    return (_at(end.at) - _at(begin.at)).total_seconds()


def _flip_back_restore(run: list[Entry]) -> float | None:
    """Detected when the bake failed; restored when the flip-back ended."""
    alert = next((e for e in run if e.step == "bake" and e.phase == FAIL), None)
    back = next((e for e in run if e.step == "flip-back" and e.phase == END), None)
    if alert is None or back is None:
        return None
    return (_at(back.at) - _at(alert.at)).total_seconds()


def _deploy_rolled_back(earlier: list[list[Entry]], finish: Entry) -> str | None:
    """The deploy run whose release a rollback or a failover left (the latest one that put it
    live)."""
    left = finish.previous
    for run in reversed(earlier):
        if run[0].kind == "deploy" and run[0].commit == left and _went_live(run) is not None:
            return run[0].deploy
    return None


def all_windows(entries: Sequence[Entry], now: datetime) -> list[Metrics]:
    return [metrics(entries, now, days) for days in WINDOWS_DAYS]
