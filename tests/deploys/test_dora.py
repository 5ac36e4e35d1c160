"""The DORA figures of a fixed ledger, against the same figures worked out by hand; the
Prometheus gauges carry the same."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from deploy.dora import all_windows, metrics
from deploy.ledger import END, FAIL, FINISH, Entry, Ledger
from deploybot.dora_metrics import DoraFigures
from tests.conftest import metric_samples, sample

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
NOW_TEXT = NOW.isoformat()
A, B, C, D, Z = ("a" * 40, "b" * 40, "c" * 40, "d" * 40, "z" * 40)


def _deploy(run: str, commit: str, committed: str, live: str, outcome: str = "done") -> list[Entry]:
    return [
        Entry(run, "deploy", "resolve", END, commit, at=live, extra={"committed_at": committed}),
        Entry(run, "deploy", "flip", END, commit, colour="blue", at=live),
        Entry(run, "deploy", FINISH, END, commit, outcome=outcome, at=live),
    ]


LEDGER = [
    *_deploy("d0", Z, "2026-10-01T08:00:00+00:00", "2026-10-01T10:00:00+00:00"),
    *_deploy("d4", D, "2026-11-10T09:00:00+00:00", "2026-11-10T10:00:00+00:00"),
    *_deploy("d1", A, "2026-11-28T08:00:00+00:00", "2026-11-28T10:00:00+00:00"),
    # B goes live, its bake alerts five minutes later, the flip-back ends 30 s after that.
    *_deploy("d2", B, "2026-11-29T09:00:00+00:00", "2026-11-29T10:00:00+00:00")[:2],
    Entry("d2", "deploy", "bake", FAIL, B, at="2026-11-29T10:05:00+00:00"),
    Entry(
        "d2",
        "deploy",
        "flip-back",
        END,
        B,
        route="blue",
        previous=A,
        at="2026-11-29T10:05:30+00:00",
    ),
    Entry(
        "d2",
        "deploy",
        FINISH,
        END,
        B,
        outcome="flipped-back",
        extra={"bad": True},
        at="2026-11-29T10:05:30+00:00",
    ),
    *_deploy("d3", C, "2026-11-30T06:00:00+00:00", "2026-11-30T10:00:00+00:00"),
    # Someone rolls C back to A: asked at 11:00, A serves again at 11:02.
    Entry("r1", "rollback", "resolve", "begin", A, at="2026-11-30T11:00:00+00:00"),
    Entry(
        "r1", "rollback", "flip", END, A, colour="green", previous=C, at="2026-11-30T11:02:00+00:00"
    ),
    Entry(
        "r1",
        "rollback",
        FINISH,
        END,
        A,
        previous=C,
        outcome="done",
        extra={"left_bad": True},
        at="2026-11-30T11:02:00+00:00",
    ),
]


def test_the_last_seven_days_by_hand() -> None:
    week = metrics(LEDGER, NOW, 7)
    # d1, d2 and d3 went live (d2 reached production before its flip-back).
    assert (week.deploys, week.days_with_a_deploy) == (3, 3)
    assert week.per_day == pytest.approx(3 / 7)
    # Leads: A 2 h, B 1 h, C 4 h; the median is 2 h.
    assert week.lead_time_s == 7200
    # B was flipped back and C rolled back: 2 of 3.
    assert week.failures == 2
    assert week.change_failure_rate == pytest.approx(2 / 3)
    # Restores: B's 30 s (alert → flip-back) and C's 120 s (rollback asked → A live).
    assert week.time_to_restore_s == 75


def test_the_last_thirty_days_take_in_the_older_deploy_and_no_more() -> None:
    month = metrics(LEDGER, NOW, 30)
    assert (month.deploys, month.days_with_a_deploy) == (4, 4)  # d4 too; d0 is older
    assert month.per_day == pytest.approx(4 / 30)
    assert month.lead_time_s == 5400  # median of 1 h, 2 h, 1 h, 4 h
    assert month.change_failure_rate == 0.5
    assert [m.days for m in all_windows(LEDGER, NOW)] == [7, 30]


def test_an_empty_ledger_says_nothing_rather_than_zero() -> None:
    empty = metrics([], NOW, 7)
    assert (empty.deploys, empty.per_day) == (0, 0.0)
    assert (empty.lead_time_s, empty.change_failure_rate, empty.time_to_restore_s) == (
        None,
        None,
        None,
    )


def test_the_prometheus_gauges_carry_the_same_figures(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path, "production")
    for entry in LEDGER:
        ledger.append(entry)
    Ledger(tmp_path, "staging").append(Entry("s1", "deploy", "resolve", "begin", A, at=NOW_TEXT))
    registry = CollectorRegistry()
    registry.register(DoraFigures(tmp_path, clock=lambda: NOW))

    found = metric_samples(generate_latest(registry).decode())

    week = {"environment": "production", "window": "7d"}
    month = {"environment": "production", "window": "30d"}
    assert sample(found, "deploybot_dora_deploys", **week) == 3
    assert sample(found, "deploybot_dora_deploys_per_day", **week) == pytest.approx(3 / 7)
    assert sample(found, "deploybot_dora_days_with_a_deploy", **month) == 4
    assert sample(found, "deploybot_dora_lead_time_seconds", **week) == 7200
    assert sample(found, "deploybot_dora_lead_time_seconds", **month) == 5400
    assert sample(found, "deploybot_dora_change_failure_ratio", **week) == pytest.approx(2 / 3)
    assert sample(found, "deploybot_dora_time_to_restore_seconds", **week) == 75
    # staging has had no deploy go live: counted as none, with no made-up medians or rates.
    quiet = {"environment": "staging", "window": "7d"}
    assert sample(found, "deploybot_dora_deploys", **quiet) == 0
    assert sample(found, "deploybot_dora_change_failure_ratio", **quiet) is None
    assert sample(found, "deploybot_dora_lead_time_seconds", **quiet) is None
