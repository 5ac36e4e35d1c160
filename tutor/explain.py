"""One short English sentence telling the learner why a form is wrong (pure, from the table and
the words of the sentence that settled the person or the mood)."""

from __future__ import annotations

from collections.abc import Sequence

from tutor.agreement import Cue
from tutor.mistakes import levelled_forms, present_stem_forms
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


def explain(
    table: ConjugationTable, original: str, meant: Reading, because: Sequence[Cue] = ()
) -> str:
    """Why `original` is not the form for `meant`, naming the right form and the verb's meaning,
    and, when a word of the sentence decided it, that word."""
    lemma, tense, person = meant.lemma, meant.tense, meant.person
    right = table.preferred(lemma, tense, person)
    gloss = f"({table.english(lemma)})"
    tense_name = TENSE_NAMES[tense]
    typed = original.casefold()
    if strip_accents(typed) == strip_accents(right.casefold()):
        return f"Mind the accent: the {tense_name} of '{lemma}' for {person} is '{right}' {gloss}."
    others = [r for r in table.readings(original) if r.lemma == lemma]
    said = _because(original, right, meant, others, because)
    if said is not None:
        return f"{said} ({lemma}: {table.english(lemma)})."
    if typed in present_stem_forms(table, lemma, tense, person):
        return (
            f"'{original}' carries the stem change of the present; the {tense_name} of "
            f"'{lemma}' for {person} is '{right}' {gloss}."
        )
    if typed in levelled_forms(table, lemma, tense, person):
        return (
            f"'{original}' takes the stem of another person; the {tense_name} of '{lemma}' "
            f"for {person} is '{right}' {gloss}."
        )
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


def _because(
    original: str, right: str, meant: Reading, others: Sequence[Reading], because: Sequence[Cue]
) -> str | None:
    """Why, when a cue of the sentence settled what was wrong: the mood a conjunction asks for,
    or the words the verb agrees with (the sentence up to the verb's gloss)."""
    tenses = {r.tense for r in others}
    persons = {r.person for r in others if r.tense == meant.tense}
    for cue in because:
        if cue.kind == "mood" and meant.tense in cue.allowed and meant.tense not in tenses:
            said = _mood(cue, original, right, meant)
            if said is not None:
                return said
        if cue.kind == "liked" and meant.person in cue.allowed and persons:
            number = "plural" if meant.person in {"nosotros", "vosotros", "ellos"} else "singular"
            return (
                f"'{original}' must agree with what is liked, '{cue.words}' ({number}), not "
                f"with the person who likes it: '{right}'"
            )
        if cue.kind == "subject" and meant.person in cue.allowed and persons:
            also = " (or ustedes, with the ellos form)" if "ellos" in cue.allowed[1:] else ""
            return (
                f"'{original}' must agree with its subject '{cue.words}', which takes the "
                f"{meant.person} form{also}: '{right}'"
            )
    return None


def _mood(cue: Cue, original: str, right: str, meant: Reading) -> str | None:
    """After a conjunction of time the main clause's verb decides: a future asks for the
    subjunctive, a past for the indicative; other conjunctions always ask for the subjunctive."""
    fix = f"{meant.person} {right}, not '{original}'"
    if cue.allowed == ("present_subjunctive",):
        when = f" when the main clause is about the future ('{cue.context}')" if cue.context else ""
        return f"After '{cue.words}' the verb takes the subjunctive{when}: {fix}"
    if "present_subjunctive" not in cue.allowed:
        return (
            f"After '{cue.words}' the verb takes the indicative when the main clause tells of "
            f"the past ('{cue.context}'): {fix}"
        )
    return None
