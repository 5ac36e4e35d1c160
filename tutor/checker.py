"""Check a learner's sentence: an analyser says what each verb was meant to be, the table judges.

Two analysers share the same judging code: the model (tutor.model_analyser) and a table-only
fallback (tutor.table_only). Either way a form is approved only if the table accepts it for a
reading the analyser finds likely, and every suggestion is the table's preferred form, so neither
analyser can invent or approve a form, whatever the sentence says.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from tutor.agreement import Cue
from tutor.explain import explain
from tutor.features import boundary, canonical_text
from tutor.inference import DEFAULT_MODEL_PATH
from tutor.model_analyser import ModelAnalyser
from tutor.table_only import TableOnlyAnalyser
from tutor.tokenizer import words
from tutor.verify import ConjugationTable, Reading

Verdict = Literal["correct", "incorrect", "no_verb_found"]


@dataclass(frozen=True)
class Correction:
    original: str
    suggestion: str
    lemma: str
    tense: str
    person: str
    explanation: str


@dataclass(frozen=True)
class CheckResult:
    verdict: Verdict
    corrections: tuple[Correction, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "verdict": self.verdict,
            "corrections": [
                {
                    "original": c.original,
                    "suggestion": c.suggestion,
                    "lemma": c.lemma,
                    "tense": c.tense,
                    "person": c.person,
                    "explanation": c.explanation,
                }
                for c in self.corrections
            ],
        }


class Checker(Protocol):
    name: str
    model_version: str

    def check(self, sentence: str) -> CheckResult: ...


class Guess(Protocol):
    """An analyser's belief about one verb: the likeliest reading and the weight of any reading.

    The form is approved when the readings the table gives it weigh at least approval_mass.
    """

    @property
    def best(self) -> Reading: ...

    @property
    def approval_mass(self) -> float: ...

    @property
    def because(self) -> tuple[Cue, ...]:
        """The words of the sentence that settled the person or the mood, for the explanation."""
        ...

    def probability(self, reading: Reading) -> float: ...


class Analyser(Protocol):
    """Says, for every word, None (not a verb to check) or what the learner meant by it."""

    def analyse(self, words: Sequence[str], boundaries: Sequence[str]) -> Sequence[Guess | None]:
        """boundaries[i] is the punctuation mark before words[i] (features.boundary)."""
        ...


def judge(table: ConjugationTable, form: str, guess: Guess) -> Correction | None:
    """None when the table accepts the form for what was meant, else the table's correction."""
    best = guess.best
    if table.accepts(form, best.lemma, best.tense, best.person):
        return None
    if sum(guess.probability(r) for r in table.readings(form)) >= guess.approval_mass:
        return None
    suggestion = table.preferred(best.lemma, best.tense, best.person)
    if form[:1].isupper():
        suggestion = suggestion[:1].upper() + suggestion[1:]
    return Correction(
        original=form,
        suggestion=suggestion,
        lemma=best.lemma,
        tense=best.tense,
        person=best.person,
        explanation=explain(table, form, best, guess.because),
    )


class TableChecker:
    """A Checker: words from the tokenizer, meanings from the analyser, verdicts from the table."""

    def __init__(
        self, table: ConjugationTable, analyser: Analyser, *, name: str, model_version: str
    ) -> None:
        self.table = table
        self.table_digest = table.digest
        self.analyser = analyser
        self.name = name
        self.model_version = model_version

    def check(self, sentence: str) -> CheckResult:
        text = canonical_text(sentence)
        spans = words(text)
        ends = [0, *(s.end for s in spans)]
        before = [boundary(text[end : s.start]) for end, s in zip(ends, spans, strict=False)]
        guesses = self.analyser.analyse([s.text for s in spans], before) if spans else []
        found = False
        corrections: list[Correction] = []
        for span, guess in zip(spans, guesses, strict=True):
            if guess is None:
                continue
            found = True
            correction = judge(self.table, span.text, guess)
            if correction is not None:
                corrections.append(correction)
        if corrections:
            return CheckResult("incorrect", tuple(corrections))
        return CheckResult("correct" if found else "no_verb_found", ())


def load_checker(
    kind: Literal["model", "table-only"] = "model",
    *,
    model_path: Path | None = None,
    table_path: Path | None = None,
) -> TableChecker:
    """The model checker (default weights: models/tutor.safetensors) or the table-only fallback.

    The default table is integrity-checked against its pin; an explicit table_path is not.
    """
    table = ConjugationTable.load(table_path, verify_pin=table_path is None)
    if kind == "table-only":
        return TableChecker(
            table, TableOnlyAnalyser(table), name="table-only", model_version="none"
        )
    if kind == "model":
        analyser = ModelAnalyser.load(model_path or DEFAULT_MODEL_PATH, table)
        return TableChecker(table, analyser, name="model", model_version=analyser.digest)
    raise ValueError(f"unknown checker kind {kind!r}; expected 'model' or 'table-only'")
