"""Forms a learner invents for a table slot: regularised irregulars and levelled stems."""

from __future__ import annotations

import re

from tutor.regular import infinitive, regular_form, strip_accents
from tutor.verify import PERSONS, TENSES, ConjugationTable, Reading

# Tenses whose stem learners carry from one person to another ("piensamos", "tengo" → "tenges").
_LEVELLED_TENSES = ("present", "present_subjunctive", "preterite")


def _regular_ending(lemma: str, tense: str, person: str) -> str | None:
    """The regular ending of the slot: what follows the infinitive's stem in the regular form."""
    form = regular_form(lemma, tense, person)
    return None if form is None else form[len(infinitive(lemma)) - 2 :]


def levelled_forms(table: ConjugationTable, lemma: str, tense: str, person: str) -> set[str]:
    """This person's regular ending on the stem the table uses for another person."""
    own = _regular_ending(lemma, tense, person)
    if tense not in _LEVELLED_TENSES or own is None:
        return set()
    out: set[str] = set()
    for other in PERSONS:
        ending = _regular_ending(lemma, tense, other)
        form = table.preferred(lemma, tense, other)
        if other != person and ending and form.endswith(ending) and len(form) > len(ending):
            out.add(form[: -len(ending)] + own)
    return out


# Tenses into which learners carry the present's stem change ("me diviertí", "se despiertó").
_PRESENT_STEM_TENSES = ("preterite", "imperfect")


def present_stem_forms(table: ConjugationTable, lemma: str, tense: str, person: str) -> set[str]:
    """The slot's regular ending on the stem the present stresses ("diviert-" of "divierte"),
    for a verb whose stem changes in the present only: "diviertí" for divertir's "divertí"."""
    regular = regular_form(lemma, tense, person)
    present = regular_form(lemma, "present", "él")
    if tense not in _PRESENT_STEM_TENSES or regular is None or present is None:
        return set()
    if not table.accepts(regular_form(lemma, "preterite", "yo") or "", lemma, "preterite", "yo"):
        return set()  # an irregular past ("tuve"): learners do not build it on "tien-"
    stem, changed = present[:-1], table.preferred(lemma, "present", "él")[:-1]
    if stem == changed or len(changed) != len(stem) + 1 or not regular.startswith(stem):
        return set()  # no diphthong in the present (e→ie, o→ue) to carry
    return {changed + regular[len(stem) :]}


_STRONG_VOWELS = frozenset("aeo")
_ACUTE = str.maketrans("aeiou", "áéíóú")


def accented_monosyllable(form: str) -> str | None:
    """ "fué", "dió", "vió": the accent current spelling drops from a one-syllable form.

    One syllable: a single run of vowels without two strong vowels in it ("fue", "dio", "vi");
    the accent goes on its last vowel. None for any other form.
    """
    if form != strip_accents(form) or form[-1:] not in set("aeiou"):
        return None
    runs = [run for run in re.split(r"[^aeiou]+", form) if run]
    if len(runs) != 1 or sum(ch in _STRONG_VOWELS for ch in runs[0]) > 1:
        return None
    return form[:-1] + form[-1].translate(_ACUTE)


def invented_forms(table: ConjugationTable, lemma: str, tense: str, person: str) -> tuple[str, ...]:
    """Plausible wrong forms for the slot, none of which the table accepts for it (sorted)."""
    candidates: set[str] = set()
    regular = regular_form(lemma, tense, person)
    if regular is not None:
        candidates.add(regular)
        candidates.add(strip_accents(regular))
    candidates.update(levelled_forms(table, lemma, tense, person))
    candidates.update(present_stem_forms(table, lemma, tense, person))
    preferred = table.preferred(lemma, tense, person)
    candidates.add(strip_accents(preferred))
    candidates.add(accented_monosyllable(preferred) or "")
    return tuple(sorted(f for f in candidates if f and not table.accepts(f, lemma, tense, person)))


def misspelling_index(table: ConjugationTable) -> dict[str, tuple[Reading, ...]]:
    """Casefolded wrong spellings (unaccented table forms, invented forms) → slots they miss."""
    index: dict[str, list[Reading]] = {}
    for lemma in table.lemmas:
        for tense in TENSES:
            for person in PERSONS:
                reading = Reading(lemma, tense, person)
                wrong = {strip_accents(f) for f in table.forms(lemma, tense, person)}
                wrong.update(invented_forms(table, lemma, tense, person))
                for form in sorted(wrong):
                    if not table.accepts(form, lemma, tense, person):
                        index.setdefault(form.casefold(), []).append(reading)
    return {form: tuple(readings) for form, readings in index.items()}
