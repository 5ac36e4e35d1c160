"""Learner forms built from the table: what they are, and that the table never accepts them."""

from __future__ import annotations

import pytest

from tutor.mistakes import accented_monosyllable, invented_forms, misspelling_index
from tutor.verify import ConjugationTable, Reading


@pytest.mark.parametrize(
    ("form", "accented"),
    [
        ("fue", "fué"),
        ("dio", "dió"),
        ("fui", "fuí"),
        ("vi", "ví"),
        ("lee", None),  # two syllables: le-e
        ("es", None),  # ends in a consonant
        ("habla", None),
        ("dé", None),  # already accented
    ],
)
def test_accented_monosyllable(form: str, accented: str | None) -> None:
    assert accented_monosyllable(form) == accented


def test_invented_forms_include_regularised_and_over_accented(table: ConjugationTable) -> None:
    assert "sabo" in invented_forms(table, "saber", "present", "yo")
    assert "fué" in invented_forms(table, "ser", "preterite", "él")
    assert "pagé" in invented_forms(table, "pagar", "preterite", "yo")


def test_misspelling_index_points_at_the_slots_a_spelling_misses(table: ConjugationTable) -> None:
    index = misspelling_index(table)
    assert set(index["fué"]) == {
        Reading("ser", "preterite", "él"),
        Reading("ir", "preterite", "él"),
    }
    for spelling, readings in index.items():
        for reading in readings:
            assert not table.accepts(spelling, reading.lemma, reading.tense, reading.person)
