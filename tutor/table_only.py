"""The best checker the table alone allows: reverse lookup, known learner forms, subject pronouns.

It is the ablation baseline for the model: it finds a verb by looking each word up in the table
(and in the table-derived index of regularised, levelled and unaccented forms), takes the person
from a subject pronoun just before the verb, and cannot read time cues, noun subjects or moods.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tutor import lexicon
from tutor.agreement import subject_person
from tutor.mistakes import misspelling_index
from tutor.verify import ConjugationTable, Reading


@dataclass(frozen=True)
class RuleGuess:
    """A rule's verdict on a word: the reading meant, and the readings that count as right."""

    best: Reading
    allowed: frozenset[Reading]
    approval_mass: float = 1.0

    def probability(self, reading: Reading) -> float:
        return 1.0 if reading in self.allowed else 0.0


class TableOnlyAnalyser:
    def __init__(self, table: ConjugationTable) -> None:
        self.table = table
        self.non_verbs = lexicon.non_verb_words()
        self.misspelt = misspelling_index(table)

    def _reads_as_verb(self, word: str) -> bool:
        folded = word.casefold()
        return folded not in self.non_verbs and bool(
            self.table.readings(word) or self.misspelt.get(folded)
        )

    def _guess(
        self, words: Sequence[str], boundaries: Sequence[str], verbs: Sequence[bool], i: int
    ) -> RuleGuess | None:
        word = words[i]
        person = subject_person(words, boundaries, verbs, i)
        readings = self.table.readings(word)
        if readings:
            if word.casefold() in self.non_verbs and person is None:
                return None
            allowed = [r for r in readings if person is None or r.person == person]
            if allowed:
                return RuleGuess(allowed[0], frozenset(allowed))
        else:
            readings = self.misspelt.get(word.casefold(), ())
            if not readings or word.casefold() in self.non_verbs:
                return None
        # The form exists but not for the subject's person, or it is a known misspelling.
        meant = next((r for r in readings if person is None or r.person == person), readings[0])
        return RuleGuess(Reading(meant.lemma, meant.tense, person or meant.person), frozenset())

    def analyse(self, words: Sequence[str], boundaries: Sequence[str]) -> list[RuleGuess | None]:
        verbs = [self._reads_as_verb(word) for word in words]
        return [self._guess(words, boundaries, verbs, i) for i in range(len(words))]
