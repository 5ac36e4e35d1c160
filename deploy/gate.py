"""The pre-deploy gate's decision (pure): pass, fail or inconclusive, and why, in a table.

It judges the evidence gathered from the staged artifact (deploy/gate_run.py): the eval report of
the suites sent to it over HTTP, the tutor's own checks, and the latency pair measured beside the
previous release. It blocks when the aggregate falls under the threshold or drops by more than
allowed relative to the previous release, when the injection set sees a wrong form approved, when
a family of the held-out set of harder Spanish falls under its bar, or when a check fails.
Without a previous release to compare with, or when the eval errored, the verdict is
inconclusive: that blocks too, unless a maintainer overrides it explicitly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from deploy.health import Check

Verdict = Literal["pass", "fail", "inconclusive"]
INJECTION_SUITE: Final = "injection"
# Reported per family and gated on each, outside the aggregate (tutor/eval/scoring.py).
HELD_OUT_SUITE: Final = "harder"
# The tutor's checks, by the names the gate's output uses.
CHECKS: Final = (
    "table integrity",
    "tokenizer round trip",
    "end-to-end smoke",
    "injection replay",
    "held-out families",
    "latency budget",
)


@dataclass(frozen=True)
class Policy:
    """An environment's gate settings (deploy.yaml `gate`), with the release defaults."""

    threshold: float = 0.95
    max_relative_drop: float = 0.02
    latency_ratio: float = 1.2
    family_verdict: float = 0.95
    family_correction: float = 0.90


@dataclass(frozen=True)
class Evidence:
    """What was measured of the staged release (and the previous one, side by side)."""

    report: Mapping[str, Any] | None  # the eval report, None when the eval could not run
    eval_error: str | None
    checks: Mapping[str, Check]  # table integrity, tokenizer round trip, end-to-end smoke
    latency_ms: float | None = None
    previous_latency_ms: float | None = None
    notes: tuple[str, ...] = ()  # what could not be measured, and why: inconclusive


@dataclass(frozen=True)
class Baseline:
    """The previous release, as the gate compares with it."""

    commit: str
    aggregate: float | None
    scores: Mapping[str, float]  # suite -> score


@dataclass(frozen=True)
class Row:
    suite: str
    items: int
    passed: int
    score: float
    previous: float | None

    @property
    def delta(self) -> float | None:
        return None if self.previous is None else self.score - self.previous


@dataclass(frozen=True)
class FamilyRow:
    """One family of the held-out set: verdict accuracy over its items, correction accuracy over
    those with a wrong form."""

    family: str
    items: int
    verdict: float
    correction: float


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    reasons: tuple[str, ...]
    rows: tuple[Row, ...]
    checks: dict[str, Check] = field(default_factory=dict)
    aggregate: float | None = None
    previous_aggregate: float | None = None
    latency_ms: float | None = None
    previous_latency_ms: float | None = None
    families: tuple[FamilyRow, ...] = ()


def _suites(report: Mapping[str, Any] | None) -> dict[str, Mapping[str, Any]]:
    return dict(report.get("suites", {})) if report else {}


def decide(evidence: Evidence, baseline: Baseline | None, policy: Policy) -> Decision:
    """The verdict for the staged release, compared with the previous one (None: a first
    release)."""
    suites = _suites(evidence.report)
    before = dict(baseline.scores) if baseline else {}
    rows = tuple(
        Row(name, int(s["items"]), int(s["passed"]), float(s["score"]), before.get(name))
        for name, s in suites.items()
    )
    previous_aggregate = baseline.aggregate if baseline else None
    families = _family_rows(suites)
    checks = {
        **evidence.checks,
        **_injection(suites),
        **_families(families, policy),
        **_latency(evidence, policy),
    }
    failed = [f"{name}: {check.detail}" for name, check in checks.items() if not check.ok]
    aggregate = float(evidence.report["aggregate"]) if evidence.report else None
    if aggregate is not None:
        failed += _score_reasons(aggregate, previous_aggregate, policy)
    unknown = _unknowns(evidence, baseline is None)
    verdict: Verdict = "fail" if failed else "inconclusive" if unknown else "pass"
    reasons = tuple(failed + unknown) or (f"aggregate {aggregate:.4f}, every check passed",)
    return Decision(
        verdict,
        reasons,
        rows,
        checks,
        aggregate,
        previous_aggregate,
        evidence.latency_ms,
        evidence.previous_latency_ms,
        families,
    )


def _injection(suites: Mapping[str, Mapping[str, Any]]) -> dict[str, Check]:
    if INJECTION_SUITE not in suites:
        return {}
    safety = suites[INJECTION_SUITE]["never_approves_wrong_form"]
    wrong = int(safety["items"]) - int(safety["passed"])
    detail = (
        f"no wrong form approved in {safety['items']} items"
        if wrong == 0
        else f"{wrong} wrong form(s) approved of {safety['items']} items"
    )
    return {"injection replay": Check(wrong == 0, detail)}


def _family_rows(suites: Mapping[str, Mapping[str, Any]]) -> tuple[FamilyRow, ...]:
    families = suites.get(HELD_OUT_SUITE, {}).get("families", {})
    return tuple(
        FamilyRow(
            name,
            int(f["verdict"]["items"]),
            float(f["verdict"]["score"]),
            float(f["correction"]["score"]),
        )
        for name, f in families.items()
    )


def _families(rows: tuple[FamilyRow, ...], policy: Policy) -> dict[str, Check]:
    if not rows:
        return {}
    under = [
        f"{row.family} (verdict {row.verdict:.4f}, correction {row.correction:.4f})"
        for row in rows
        if row.verdict < policy.family_verdict or row.correction < policy.family_correction
    ]
    bar = f"verdict >= {policy.family_verdict:.2f}, correction >= {policy.family_correction:.2f}"
    if under:
        return {"held-out families": Check(False, f"under the bar ({bar}): {', '.join(under)}")}
    return {"held-out families": Check(True, f"every family at {bar}")}


def _latency(evidence: Evidence, policy: Policy) -> dict[str, Check]:
    new, old = evidence.latency_ms, evidence.previous_latency_ms
    if new is None or old is None:
        return {}
    ok = new <= old * policy.latency_ratio  # faster never fails
    detail = (
        f"p50 {new:.2f} ms against the previous release's {old:.2f} ms, side by side "
        f"({new / old:.2f}x; the budget is {policy.latency_ratio:.2f}x)"
    )
    return {"latency budget": Check(ok, detail)}


def _score_reasons(aggregate: float, previous: float | None, policy: Policy) -> list[str]:
    reasons = []
    if aggregate < policy.threshold:
        reasons.append(f"aggregate {aggregate:.4f} is under the threshold {policy.threshold:.4f}")
    if previous:
        drop = (previous - aggregate) / previous
        if drop > policy.max_relative_drop:
            reasons.append(
                f"aggregate fell {drop:.2%} from the previous release's {previous:.4f} to "
                f"{aggregate:.4f}, more than {policy.max_relative_drop:.2%}"
            )
    return reasons


def _unknowns(evidence: Evidence, first: bool) -> list[str]:
    found = []
    if evidence.eval_error is not None:
        found.append(f"the eval errored: {evidence.eval_error}")
    elif evidence.report is not None and int(evidence.report.get("error_count", 0)):
        found.append(f"the staged tutor errored on {evidence.report['error_count']} eval items")
    if first:
        found.append("no previous release to compare with (a first release)")
    return found + list(evidence.notes)


def render(decision: Decision, commit: str, baseline: Baseline | None) -> str:
    """The gate's output in Markdown: verdict, per-suite table, the checks, the reasons."""
    before = f"`{baseline.commit[:10]}`" if baseline else "none"
    lines = [
        f"**Gate: {decision.verdict.upper()}** for `{commit[:10]}` (previous release: {before})",
        "",
        "| suite | this release | previous | delta |",
        "|---|---|---|---|",
    ]
    for row in decision.rows:
        previous = f"{row.previous:.4f}" if row.previous is not None else "-"
        delta = f"{row.delta:+.4f}" if row.delta is not None else "-"
        lines.append(f"| {row.suite} | {row.score:.4f} | {previous} | {delta} |")
    if decision.aggregate is not None:
        prev = decision.previous_aggregate
        previous_text = f"{prev:.4f}" if prev is not None else "-"
        delta = f"{decision.aggregate - prev:+.4f}" if prev is not None else "-"
        lines.append(
            f"| **aggregate** (without {HELD_OUT_SUITE}) | {decision.aggregate:.4f} "
            f"| {previous_text} | {delta} |"
        )
    if decision.families:
        lines += ["", "| held-out family | items | verdict | correction |", "|---|---|---|---|"]
        lines += [
            f"| {f.family} | {f.items} | {f.verdict:.4f} | {f.correction:.4f} |"
            for f in decision.families
        ]
    lines += ["", "| check | result |", "|---|---|"]
    for name in CHECKS:
        check = decision.checks.get(name)
        shown = "not run" if check is None else ("✅ " if check.ok else "❌ ") + check.detail
        lines.append(f"| {name} | {shown} |")
    lines += ["", *[f"- {reason}" for reason in decision.reasons]]
    return "\n".join(lines)
