"""Turn scores into the printed tables and the JSON report (pure: no files, no printing)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tutor.eval.scoring import (
    FAMILY_CORRECTION_THRESHOLD,
    FAMILY_VERDICT_THRESHOLD,
    HELD_OUT_SUITE,
    Failure,
    FamilyScore,
    GateDecision,
    SuiteScore,
    Tally,
    aggregate,
    aggregate_tally,
    expected_pairs,
    no_gain,
)

AGGREGATE_METHOD = (
    "item-weighted mean over suites: items passed in all suites / items in all suites "
    f"(the held-out suite '{HELD_OUT_SUITE}' aside, gated per family)"
)
REGRESSION_SUITE = "regression"


@dataclass(frozen=True)
class Run:
    """One checker's scores over every suite, with the identity of what was measured."""

    checker: str
    model_digest: str
    scores: Mapping[str, SuiteScore]

    @property
    def aggregate(self) -> float:
        return aggregate(self.scores.values())

    def error_types(self, suite: str = REGRESSION_SUITE) -> Mapping[str, Tally]:
        score = self.scores.get(suite)
        return score.by_error_type if score is not None else {}

    def families(self, suite: str = HELD_OUT_SUITE) -> Mapping[str, FamilyScore]:
        score = self.scores.get(suite)
        return score.by_family if score is not None else {}


def _tally_json(tally: Tally) -> dict[str, object]:
    return {"items": tally.items, "passed": tally.passed, "score": round(tally.score, 6)}


def _family_json(family: FamilyScore) -> dict[str, object]:
    return {"verdict": _tally_json(family.verdict), "correction": _tally_json(family.correction)}


def _run_json(run: Run) -> dict[str, object]:
    return {
        "checker": run.checker,
        "model_digest": run.model_digest,
        "aggregate": round(run.aggregate, 6),
        "suites": {
            name: {
                **_tally_json(score.total),
                "never_approves_wrong_form": _tally_json(score.safety),
                "error_types": {t: _tally_json(v) for t, v in score.by_error_type.items()},
                **(
                    {"families": {f: _family_json(v) for f, v in score.by_family.items()}}
                    if score.by_family
                    else {}
                ),
            }
            for name, score in run.scores.items()
        },
        "error_types": {t: _tally_json(v) for t, v in run.error_types().items()},
    }


def _pairs_json(pairs: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"original": o, "suggestion": s} for o, s in pairs]


def failure_json(suite: str, failure: Failure) -> dict[str, object]:
    item = failure.item
    return {
        "suite": suite,
        "id": item.id,
        "line": item.line,
        "sentence": item.sentence,
        "error_type": item.error_type,
        "expected": {"verdict": item.verdict, "corrections": _pairs_json(expected_pairs(item))},
        "got": failure.got.to_json(),
    }


def failures(run: Run) -> list[dict[str, object]]:
    return [failure_json(name, f) for name, score in run.scores.items() for f in score.failures]


def build_report(
    run: Run,
    ablation: Run | None,
    *,
    table_digest: str,
    gate: GateDecision,
    threshold: float,
    date: str,
    max_failures: int,
    previous_aggregate: float | None = None,
    max_relative_drop: float | None = None,
) -> dict[str, object]:
    """The JSON report; "ablation" is null when the measured checker is the table-only one."""
    all_failures = failures(run)
    report: dict[str, object] = {
        "date": date,
        "table_digest": table_digest,
        **_run_json(run),
        "aggregate_method": AGGREGATE_METHOD,
        "threshold": threshold,
        "family_thresholds": {
            "verdict": FAMILY_VERDICT_THRESHOLD,
            "correction": FAMILY_CORRECTION_THRESHOLD,
        },
        "gate": {
            "passed": gate.passed,
            "reason": gate.reason,
            "previous_aggregate": previous_aggregate,
            "max_relative_drop": max_relative_drop,
        },
        "failure_count": len(all_failures),
        # Items the checker raised on (or, judged by URL, did not answer): not a score at all.
        "error_count": sum(
            1 for score in run.scores.values() for f in score.failures if f.got.error is not None
        ),
        "failures": all_failures[:max_failures],
        "ablation": None,
    }
    if ablation is not None:
        report["ablation"] = {
            **_run_json(ablation),
            "model_adds_nothing_on": no_gain(run.error_types(), ablation.error_types()),
            "failure_count": len(failures(ablation)),
        }
    return report


def _row(cells: Sequence[str], widths: Sequence[int]) -> str:
    # First column (a name) left-aligned, figures right-aligned.
    return "  ".join(
        c.ljust(w) if i == 0 else c.rjust(w)
        for i, (c, w) in enumerate(zip(cells, widths, strict=True))
    )


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = _row(header, widths)
    return [line, "-" * len(line), *(_row(row, widths) for row in rows)]


def _side_by_side(
    label: str, model: Mapping[str, Tally], table_only: Mapping[str, Tally] | None
) -> list[str]:
    header = [label, "items", "passed", "score"]
    if table_only is not None:
        header += ["table-only passed", "score", "model gain"]
    rows: list[list[str]] = []
    for name, tally in model.items():
        row = [name, str(tally.items), str(tally.passed), f"{tally.score:.4f}"]
        if table_only is not None:
            base = table_only.get(name, Tally())
            row += [str(base.passed), f"{base.score:.4f}", f"{tally.score - base.score:+.4f}"]
        rows.append(row)
    return _table(header, rows)


def _families(
    model: Mapping[str, FamilyScore], table_only: Mapping[str, FamilyScore] | None
) -> list[str]:
    header = ["family", "items", "verdict", "correction"]
    if table_only is not None:
        header += ["table-only verdict", "correction"]
    rows: list[list[str]] = []
    for name, family in model.items():
        row = [name, str(family.verdict.items), f"{family.verdict.score:.4f}"]
        row.append(f"{family.correction.score:.4f}")
        if table_only is not None:
            base = table_only.get(name, FamilyScore())
            row += [f"{base.verdict.score:.4f}", f"{base.correction.score:.4f}"]
        rows.append(row)
    return _table(header, rows)


def _totals(run: Run) -> dict[str, Tally]:
    totals = {name: score.total for name, score in run.scores.items()}
    totals[f"aggregate (without {HELD_OUT_SUITE})"] = aggregate_tally(run.scores.values())
    return totals


def _describe(pairs: Sequence[tuple[str, str]]) -> str:
    return ", ".join(f"{o} -> {s}" for o, s in pairs) or "-"


def render_text(run: Run, ablation: Run | None, *, table_digest: str, max_failures: int) -> str:
    """The human-readable summary: suites and error types side by side with the ablation."""
    lines = [
        f"checker: {run.checker}   model: {run.model_digest}   table: {table_digest}",
        f"aggregate = {AGGREGATE_METHOD}",
        "",
    ]
    base = ablation
    lines += _side_by_side("suite", _totals(run), _totals(base) if base else None)
    lines += ["", "regression corpus, accuracy per error type:"]
    lines += _side_by_side("error type", run.error_types(), base.error_types() if base else None)
    if run.families():
        lines += [
            "",
            f"held-out suite '{HELD_OUT_SUITE}', per family (verdict accuracy >= "
            f"{FAMILY_VERDICT_THRESHOLD:.2f} over every item, correction accuracy >= "
            f"{FAMILY_CORRECTION_THRESHOLD:.2f} over the items with a wrong form):",
        ]
        lines += _families(run.families(), base.families() if base else None)
    lines.append("")
    lines += _side_by_side(
        "never approves a wrong form",
        {name: s.safety for name, s in run.scores.items()},
        {name: s.safety for name, s in base.scores.items()} if base else None,
    )
    if base is not None:
        model_types, table_types = run.error_types(), base.error_types()
        flat = [
            f"{name} ({model_types[name].score:.4f} vs {table_types[name].score:.4f})"
            for name in no_gain(model_types, table_types)
        ]
        lines.append("")
        if flat:
            lines.append(
                "The model adds nothing over the table-only fallback on: " + ", ".join(flat) + "."
            )
        else:
            lines.append("The model scores above the table-only fallback on every error type.")
    shown = [(name, f) for name, s in run.scores.items() for f in s.failures]
    if shown:
        lines += ["", f"failures (first {min(max_failures, len(shown))} of {len(shown)}):"]
        for name, failure in shown[:max_failures]:
            item, got = failure.item, failure.got
            answer = got.error or f"{got.verdict} [{_describe(got.pairs)}]"
            lines.append(
                f"  {name} {item.id}: {item.sentence!r}\n"
                f"      expected {item.verdict} [{_describe(expected_pairs(item))}], got {answer}"
            )
    return "\n".join(lines)
