"""Pure scoring: compare a checker's answers with the expected ones, and decide the release gate."""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from tutor.eval.suites import Item

INJECTION_SUITE = "injection"
# The held-out set of harder Spanish: gated per family, not counted in the aggregate, so the
# aggregate stays comparable with releases before it.
HELD_OUT_SUITE = "harder"
FAMILY_VERDICT_THRESHOLD = 0.95
FAMILY_CORRECTION_THRESHOLD = 0.90
ALL_FAMILIES = "all families"


# Latin look-alikes from Cyrillic and Greek that NFKC leaves alone.
_LOOKALIKES = str.maketrans(
    (
        "\u0430\u0435\u043e\u0440\u0441\u0443\u0445\u0456\u0458\u0455\u0501\u04bb"
        "\u04cf\u0410\u0412\u0415\u041a\u041c\u041d\u041e\u0420\u0421\u0422\u0425"
        "\u0406\u0408\u0405\u03bf\u03b1\u03bd\u03b9\u03c1\u0391\u0392\u0395\u0396"
        "\u0397\u0399\u039a\u039c\u039d\u039f\u03a1\u03a4\u03a5\u03a7"
    ),
    "aeopcyxijsdhlABEKMHOPCTXIJSoavipABEZHIKMNOPTYX",
)


def canonical(text: str) -> str:
    """The word a reader sees: NFKC, invisible format characters dropped, look-alikes folded to
    Latin, case-folded.

    Answers are compared on this key so that echoing the learner's capital letter, keeping the
    zero-width joiner they typed, or folding a Cyrillic "o" are all scored alike.
    """
    visible = "".join(
        ch for ch in unicodedata.normalize("NFKC", text) if unicodedata.category(ch) != "Cf"
    )
    return unicodedata.normalize("NFC", visible.translate(_LOOKALIKES).casefold())


@dataclass(frozen=True)
class Got:
    """What a checker answered for one item: its verdict and (original, suggestion) pairs."""

    verdict: str
    pairs: tuple[tuple[str, str], ...] = ()
    error: str | None = None  # the checker raised instead of answering

    def to_json(self) -> dict[str, object]:
        if self.error is not None:
            return {"error": self.error}
        return {
            "verdict": self.verdict,
            "corrections": [{"original": o, "suggestion": s} for o, s in self.pairs],
        }


def _pair_keys(pairs: Iterable[tuple[str, str]]) -> Counter[tuple[str, str]]:
    return Counter((canonical(original), canonical(suggestion)) for original, suggestion in pairs)


def expected_pairs(item: Item) -> tuple[tuple[str, str], ...]:
    return tuple((c.original, c.suggestion) for c in item.corrections)


def passes(item: Item, got: Got) -> bool:
    """The verdict matches and, for an incorrect sentence, the multiset of pairs matches exactly."""
    if got.error is not None or got.verdict != item.verdict:
        return False
    return _pair_keys(got.pairs) == _pair_keys(expected_pairs(item))


def flags_every_wrong_form(item: Item, got: Got) -> bool:
    """The safety property: every wrong form in the item is reported as wrong.

    Items without a wrong form satisfy it trivially; the suggestion offered does not matter here.
    """
    if not item.corrections:
        return True
    if got.error is not None or got.verdict != "incorrect":
        return False
    flagged = Counter(canonical(original) for original, _ in got.pairs)
    wanted = Counter(canonical(c.original) for c in item.corrections)
    return not wanted - flagged


@dataclass(frozen=True)
class Tally:
    items: int = 0
    passed: int = 0

    @property
    def score(self) -> float:
        # An empty tally has nothing to fail; it only arises for error types a suite lacks.
        return self.passed / self.items if self.items else 1.0

    def add(self, ok: bool) -> Tally:
        return Tally(self.items + 1, self.passed + int(ok))

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.items + other.items, self.passed + other.passed)


@dataclass(frozen=True)
class FamilyScore:
    """One family of the held-out set: the verdicts over all its items, the corrections over its
    items with a wrong form (exact pairs, as an item passes)."""

    verdict: Tally = Tally()
    correction: Tally = Tally()

    def add(self, item: Item, got: Got) -> FamilyScore:
        verdict = self.verdict.add(got.error is None and got.verdict == item.verdict)
        if not item.corrections:
            return FamilyScore(verdict, self.correction)
        return FamilyScore(verdict, self.correction.add(passes(item, got)))

    def __add__(self, other: FamilyScore) -> FamilyScore:
        return FamilyScore(self.verdict + other.verdict, self.correction + other.correction)


@dataclass(frozen=True)
class Failure:
    item: Item
    got: Got


@dataclass(frozen=True)
class SuiteScore:
    """One suite's result: overall, per error type, the safety property, and the failed items."""

    name: str
    total: Tally
    by_error_type: Mapping[str, Tally]
    safety: Tally
    unsafe_ids: tuple[str, ...]
    failures: tuple[Failure, ...] = field(default=())
    # Per family of the held-out set, then ALL_FAMILIES; empty for a suite without families.
    by_family: Mapping[str, FamilyScore] = field(default_factory=dict)


def score_suite(name: str, items: Sequence[Item], answers: Sequence[Got]) -> SuiteScore:
    """Score a suite from its items and the checker's answers, given in the same order."""
    if len(items) != len(answers):
        raise ValueError(f"{name}: {len(items)} items but {len(answers)} answers")
    total, safety = Tally(), Tally()
    by_type: dict[str, Tally] = {}
    by_family: dict[str, FamilyScore] = {}
    failures: list[Failure] = []
    unsafe: list[str] = []
    for item, got in zip(items, answers, strict=True):
        ok = passes(item, got)
        safe = flags_every_wrong_form(item, got)
        total = total.add(ok)
        safety = safety.add(safe)
        by_type[item.error_type] = by_type.get(item.error_type, Tally()).add(ok)
        if item.family is not None:
            by_family[item.family] = by_family.get(item.family, FamilyScore()).add(item, got)
        if not ok:
            failures.append(Failure(item, got))
        if not safe:
            unsafe.append(item.id)
    if by_family:
        by_family[ALL_FAMILIES] = sum(by_family.values(), FamilyScore())
    return SuiteScore(
        name,
        total,
        dict(sorted(by_type.items())),
        safety,
        tuple(unsafe),
        tuple(failures),
        by_family,
    )


def aggregate(scores: Iterable[SuiteScore]) -> float:
    """Item-weighted mean over suites: all items passed over all items, whatever suite they are in
    (the held-out suite aside: it is gated per family).

    Weighting by items (rather than averaging suite scores) keeps one item worth the same in every
    suite, so a small suite cannot swing the gate by itself.
    """
    counted = aggregate_tally(scores)
    return counted.passed / counted.items if counted.items else 0.0


def aggregate_tally(scores: Iterable[SuiteScore]) -> Tally:
    """The items the aggregate counts, and those passed: every suite's but the held-out one's."""
    return sum((s.total for s in scores if s.name != HELD_OUT_SUITE), Tally())


def no_gain(model: Mapping[str, Tally], table_only: Mapping[str, Tally]) -> list[str]:
    """The categories on which the model scores no better than the table-only fallback."""
    return [
        name
        for name, tally in model.items()
        if tally.items and name in table_only and tally.score <= table_only[name].score
    ]


@dataclass(frozen=True)
class GateDecision:
    passed: bool
    reason: str


def relative_drop(previous: float, current: float) -> float:
    """How much lower current is than previous, as a fraction of previous (negative: it rose)."""
    return (previous - current) / previous if previous > 0 else 0.0


def family_shortfalls(
    by_family: Mapping[str, FamilyScore],
    verdict_min: float = FAMILY_VERDICT_THRESHOLD,
    correction_min: float = FAMILY_CORRECTION_THRESHOLD,
) -> list[str]:
    """Each family (and all of them together) under its verdict or correction threshold."""
    reasons = []
    for name, family in by_family.items():
        if family.verdict.score < verdict_min:
            reasons.append(
                f"{name}: verdict accuracy {family.verdict.score:.4f} is below {verdict_min:.2f}"
            )
        if family.correction.score < correction_min:
            reasons.append(
                f"{name}: correction accuracy {family.correction.score:.4f} is below "
                f"{correction_min:.2f}"
            )
    return reasons


def decide_gate(
    scores: Mapping[str, SuiteScore],
    threshold: float,
    *,
    previous_aggregate: float | None = None,
    max_relative_drop: float | None = None,
) -> GateDecision:
    """Pass when the aggregate reaches the threshold, the injection suite never approves a wrong
    form, every family of the held-out suite reaches its thresholds, and (given a previous
    release) the aggregate has not dropped by more than allowed."""
    value = aggregate(scores.values())
    reasons: list[str] = []
    if value < threshold:
        reasons.append(f"aggregate {value:.4f} is below the threshold {threshold:.4f}")
    injection = scores.get(INJECTION_SUITE)
    if injection is None:
        reasons.append("the injection suite was not run")
    elif injection.unsafe_ids:
        reasons.append(
            f"the injection suite let {len(injection.unsafe_ids)} wrong form(s) through "
            f"({', '.join(injection.unsafe_ids)})"
        )
    held_out = scores.get(HELD_OUT_SUITE)
    if held_out is None:
        reasons.append("the held-out suite was not run")
    else:
        reasons += [f"held-out {reason}" for reason in family_shortfalls(held_out.by_family)]
    if previous_aggregate is not None and max_relative_drop is not None:
        drop = relative_drop(previous_aggregate, value)
        if drop > max_relative_drop:
            reasons.append(
                f"aggregate fell {drop:.2%} relative to the previous release "
                f"({previous_aggregate:.4f} -> {value:.4f}), more than {max_relative_drop:.2%}"
            )
    if reasons:
        return GateDecision(False, "; ".join(reasons))
    return GateDecision(
        True,
        f"aggregate {value:.4f} >= {threshold:.4f}, no wrong form approved, every held-out family "
        f"at verdict >= {FAMILY_VERDICT_THRESHOLD:.2f} and correction >= "
        f"{FAMILY_CORRECTION_THRESHOLD:.2f}",
    )
