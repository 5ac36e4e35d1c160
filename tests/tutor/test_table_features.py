"""What the model reads of the table beside a word's letters."""

from __future__ import annotations

import numpy as np

from tutor.table_features import N_TABLE_FEATURES, TableFeatures
from tutor.verify import PERSONS, TENSES, ConjugationTable

SLOTS = len(TENSES) * len(PERSONS)


def _slot(tense: str, person: str) -> int:
    return TENSES.index(tense) * len(PERSONS) + PERSONS.index(person)


def test_a_table_form_marks_its_slots_and_the_known_flag(table: ConjugationTable) -> None:
    [row] = TableFeatures(table).matrix(["Hablo"])
    assert row.shape == (N_TABLE_FEATURES,)
    assert np.flatnonzero(row[:SLOTS]).tolist() == [_slot("present", "yo")]
    assert not row[SLOTS : 2 * SLOTS].any()
    assert row[2 * SLOTS :].tolist() == [1.0, 0.0, 0.0]  # known, not misspelt, not a non-verb


def test_a_misspelling_marks_the_slots_it_misses(table: ConjugationTable) -> None:
    [row] = TableFeatures(table).matrix(["sabo"])
    assert not row[:SLOTS].any()
    assert np.flatnonzero(row[SLOTS : 2 * SLOTS]).tolist() == [_slot("present", "yo")]
    assert row[2 * SLOTS :].tolist() == [0.0, 1.0, 0.0]


def test_an_everyday_word_that_is_also_a_form_carries_both(table: ConjugationTable) -> None:
    [row] = TableFeatures(table).matrix(["como"])  # "I eat" and "like"
    assert row[_slot("present", "yo")] == 1.0
    assert row[2 * SLOTS :].tolist() == [1.0, 0.0, 1.0]


def test_other_words_carry_nothing(table: ConjugationTable) -> None:
    rows = TableFeatures(table).matrix(["García", "\U0001f600", "the"])
    assert not rows[:, : 2 * SLOTS].any()
    assert rows[:, 2 * SLOTS + 2].tolist() == [0.0, 0.0, 1.0]  # only "the" is a listed non-verb
    assert TableFeatures(table).matrix([]).shape == (0, N_TABLE_FEATURES)
