"""The best checker the table alone allows: reverse lookup, known learner forms, subject pronouns.

It is the ablation baseline for the model: it finds a verb by looking each word up in the table
(and in the table-derived index of regularised, levelled and unaccented forms), and reads what the
rules of agreement.py and mood.py read (a subject pronoun, a coordinated subject with one, what a
verb like gustar agrees with, a conjunction asking for the subjunctive); it cannot read time cues,
noun subjects or the moods no conjunction announces.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tutor import lexicon
from tutor.agreement import Cue, a_name, clitic_before_verb, liked_cue, subject_cue
from tutor.mistakes import misspelling_index
from tutor.mood import mood_cue
from tutor.verify import ConjugationTable, Reading


@dataclass(frozen=True)
class RuleGuess:
    """A rule's verdict on a word: the reading meant, and the readings that count as right."""

    best: Reading
    allowed: frozenset[Reading]
    because: tuple[Cue, ...] = ()
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
        known = self.table.readings(word)
        readings = known or self.misspelt.get(word.casefold(), ())
        if not readings or clitic_before_verb(words, boundaries, verbs, i):
            return None
        agreement = liked_cue(words, boundaries, verbs, i, readings) or subject_cue(
            words, boundaries, verbs, i
        )
        settled = agreement is not None and agreement.next_to_verb
        if not settled and (word.casefold() in self.non_verbs or a_name(words, boundaries, i)):
            return None
        mood = mood_cue(words, boundaries, verbs, self.table.readings, i)
        because = tuple(cue for cue in (agreement, mood) if cue is not None)
        allowed = [r for r in known if _fits(r, agreement, mood)]
        if allowed:
            return RuleGuess(allowed[0], frozenset(allowed), because)
        # The form exists but not for what the sentence asks, or it is a known misspelling.
        meant = next((r for r in readings if _fits(r, agreement, None)), readings[0])
        person = meant.person if _fits(meant, agreement, None) else _first(agreement, meant.person)
        tense = meant.tense if _fits(meant, None, mood) else _first(mood, meant.tense)
        return RuleGuess(Reading(meant.lemma, tense, person), frozenset(), because)

    def analyse(self, words: Sequence[str], boundaries: Sequence[str]) -> list[RuleGuess | None]:
        verbs = [
            self._reads_as_verb(word) and not a_name(words, boundaries, i)
            for i, word in enumerate(words)
        ]
        return [self._guess(words, boundaries, verbs, i) for i in range(len(words))]


def _fits(reading: Reading, agreement: Cue | None, mood: Cue | None) -> bool:
    """Whether the reading has a person the agreement allows and a tense the mood allows."""
    return (agreement is None or reading.person in agreement.allowed) and (
        mood is None or reading.tense in mood.allowed
    )


def _first(cue: Cue | None, otherwise: str) -> str:
    return otherwise if cue is None else cue.allowed[0]
