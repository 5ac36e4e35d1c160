"""What the table says about each word: the model's second input beside the word's letters.

The letters let the model read an ending; these features tell it outright which slots the table
gives the word (and, for a known misspelling, which slots it misses), so its capacity goes to the
context: which of those slots the subject, the time and the mood ask for.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from tutor import lexicon
from tutor.features import canonical_text
from tutor.mistakes import misspelling_index
from tutor.verify import PERSONS, TENSES, ConjugationTable, Reading

_SLOTS = {(t, p): i for i, (t, p) in enumerate((t, p) for t in TENSES for p in PERSONS)}
# Slots the table gives the word, slots a misspelling misses, then three flags: a table form,
# a known misspelling, an everyday non-verb word.
N_TABLE_FEATURES = 2 * len(_SLOTS) + 3


class TableFeatures:
    def __init__(self, table: ConjugationTable) -> None:
        self.table = table
        self.misspelt = misspelling_index(table)
        self.non_verbs = lexicon.non_verb_words()
        self.row = lru_cache(maxsize=65536)(self._row)

    def _row(self, word: str) -> tuple[float, ...]:
        folded = canonical_text(word).casefold()
        row = [0.0] * N_TABLE_FEATURES
        known = self.table.readings(word)
        misspelt: Sequence[Reading] = () if known else self.misspelt.get(folded, ())
        for offset, readings in ((0, known), (len(_SLOTS), misspelt)):
            for reading in readings:
                row[offset + _SLOTS[(reading.tense, reading.person)]] = 1.0
        flags = (bool(known), bool(misspelt), folded in self.non_verbs)
        row[2 * len(_SLOTS) :] = [float(flag) for flag in flags]
        return tuple(row)

    def matrix(self, words: Sequence[str]) -> npt.NDArray[np.float32]:
        """(len(words), N_TABLE_FEATURES)."""
        return np.array([self.row(word) for word in words], dtype=np.float32).reshape(
            len(words), N_TABLE_FEATURES
        )
