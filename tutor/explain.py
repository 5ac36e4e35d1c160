"""One short English sentence telling the learner why a form is wrong (pure, from the table)."""

from __future__ import annotations

from tutor.regular import regular_form, strip_accents
from tutor.verify import ConjugationTable, Reading

TENSE_NAMES = {
    "present": "present",
    "preterite": "preterite",
    "imperfect": "imperfect",
    "future": "future",
    "conditional": "conditional",
    "present_subjunctive": "present subjunctive",
}


def explain(table: ConjugationTable, original: str, meant: Reading) -> str:
    """Why `original` is not the form for `meant`, naming the right form and the verb's meaning."""
    lemma, tense, person = meant.lemma, meant.tense, meant.person
    right = table.preferred(lemma, tense, person)
    gloss = f"({table.english(lemma)})"
    tense_name = TENSE_NAMES[tense]
    typed = original.casefold()
    if strip_accents(typed) == strip_accents(right.casefold()):
        return f"Mind the accent: the {tense_name} of '{lemma}' for {person} is '{right}' {gloss}."
    others = [r for r in table.readings(original) if r.lemma == lemma]
    if any(r.tense == tense for r in others):
        wrong_person = next(r.person for r in others if r.tense == tense)
        return (
            f"'{original}' is the {wrong_person} form; for {person} the {tense_name} of "
            f"'{lemma}' is '{right}' {gloss}."
        )
    if others:
        used = TENSE_NAMES[others[0].tense]
        return (
            f"'{original}' is the {used}; here the sentence needs the {tense_name} of "
            f"'{lemma}': {person} {right} {gloss}."
        )
    if regular_form(lemma, tense, person) != right:
        return f"'{lemma}' is irregular in the {tense_name}: {person} {right} {gloss}."
    return f"The {tense_name} of '{lemma}' for {person} is '{right}' {gloss}."
