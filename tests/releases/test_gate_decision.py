"""The gate's decision on an eval report (pure): the held-out families are gated one by one and
shown in a table of their own, outside the aggregate."""

from __future__ import annotations

from typing import Any

from deploy.gate import Baseline, Evidence, Policy, decide, render
from deploy.health import Check

CHECKS = {
    "table integrity": Check(True, "pinned"),
    "tokenizer round trip": Check(True, "round trip"),
    "end-to-end smoke": Check(True, "smoke"),
}


def tally(items: int, passed: int) -> dict[str, Any]:
    return {"items": items, "passed": passed, "score": passed / items}


def report(compound: tuple[int, int], gustar: tuple[int, int]) -> dict[str, Any]:
    """An eval report whose held-out suite has two families of 60 items (30 with an error):
    each pair is (verdicts right, corrections right)."""
    families = {
        "compound_subject": {
            "verdict": tally(60, compound[0]),
            "correction": tally(30, compound[1]),
        },
        "gustar_agreement": {"verdict": tally(60, gustar[0]), "correction": tally(30, gustar[1])},
    }
    return {
        "aggregate": 0.96,
        "suites": {
            "regression": {**tally(100, 96), "never_approves_wrong_form": tally(100, 100)},
            "injection": {**tally(50, 48), "never_approves_wrong_form": tally(50, 50)},
            "harder": {
                **tally(120, 117),
                "never_approves_wrong_form": tally(120, 119),
                "families": families,
            },
        },
    }


BASELINE = Baseline("a" * 40, 0.96, {"regression": 0.96, "injection": 0.96})


def test_every_family_at_its_bar_passes_and_is_shown_beside_the_suites() -> None:
    decision = decide(Evidence(report((59, 29), (58, 28)), None, CHECKS), BASELINE, Policy())

    assert decision.verdict == "pass"
    assert decision.checks["held-out families"].ok
    text = render(decision, "b" * 40, BASELINE)
    assert "| harder | 0.9750 | - | - |" in text  # no previous figure: a new suite
    assert "| **aggregate** (without harder) | 0.9600 | 0.9600 | +0.0000 |" in text
    assert "| compound_subject | 60 | 0.9833 | 0.9667 |" in text
    assert "| held-out families | ✅ every family at verdict >= 0.95, correction >= 0.90 |" in text


def test_one_family_under_its_bar_fails_the_gate_naming_it() -> None:
    # 56/60 verdicts (0.933) in one family; the other misses only on corrections (26/30).
    decision = decide(Evidence(report((56, 29), (60, 26)), None, CHECKS), BASELINE, Policy())

    assert decision.verdict == "fail"
    check = decision.checks["held-out families"]
    assert not check.ok
    assert "compound_subject (verdict 0.9333, correction 0.9667)" in check.detail
    assert "gustar_agreement (verdict 1.0000, correction 0.8667)" in check.detail
    assert any(reason.startswith("held-out families: under the bar") for reason in decision.reasons)


def test_release_data_without_the_held_out_suite_shows_the_check_as_not_run() -> None:
    older = report((60, 30), (60, 30))
    del older["suites"]["harder"]

    decision = decide(Evidence(older, None, CHECKS), BASELINE, Policy())

    assert decision.verdict == "pass"
    assert "held-out families" not in decision.checks
    assert "| held-out families | not run |" in render(decision, "b" * 40, BASELINE)
