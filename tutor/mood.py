"""Which words before a verb ask for the subjunctive: a conjunction of purpose or time, a verb of
wish, a judgement ("es importante que") or ojalá (pure: words in, a Cue out)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from tutor.agreement import Cue
from tutor.verify import Reading

SUBJUNCTIVE = "present_subjunctive"
# Conjunctions after which the verb is always in the subjunctive.
_ALWAYS = (
    "para que",
    "antes de que",
    "sin que",
    "a menos que",
    "con tal de que",
    "en caso de que",
    "a fin de que",
    "ojalá que",
    "ojalá",
    "ojala que",  # as learners often type it
    "ojala",
)
# Conjunctions of time: the subjunctive when the other clause is about the future ("cuando
# llegues, te llamaré"), the indicative when it tells of the past ("cuando llegué, cenamos");
# after a present either, a habit ("cuando llego, ceno") or, with the present speaking of the
# future, what is to come ("cuando llegues, cenamos"): the model reads which.
_TEMPORAL = ("en cuanto", "hasta que", "tan pronto como", "después de que", "cuando")
_AFTER_FUTURE = (SUBJUNCTIVE,)
_AFTER_PAST = ("preterite", "imperfect")
# Verbs of wish and influence: "quiero que vengas", "le pido a mi jefe que me escuche".
_WISH_LEMMAS = frozenset(
    {
        "querer",
        "esperar",
        "preferir",
        "desear",
        "pedir",
        "necesitar",
        "recomendar",
        "sugerir",
        "exigir",
        "prohibir",
        "permitir",
        "rogar",
        "mandar",
        "insistir",
    }
)
# "es importante que": a judgement of value or likelihood asks for the subjunctive; "es verdad
# que", "es obvio que" (a statement of fact) do not.
_JUDGEMENTS = frozenset(
    {
        "importante",
        "necesario",
        "necesaria",
        "mejor",
        "posible",
        "imposible",
        "probable",
        "improbable",
        "raro",
        "extraño",
        "normal",
        "bueno",
        "malo",
        "triste",
        "increíble",
        "fundamental",
        "esencial",
        "preciso",
        "urgente",
        "lógico",
        "natural",
        "difícil",
        "fácil",
        "útil",
        "pena",
        "lástima",
    }
)
# The main verb's tenses in which its "que" clause takes the present subjunctive (after a past
# one it takes the imperfect subjunctive, which the table does not hold).
_NOW_OR_LATER = frozenset({"present", "future"})
_DEGREE = frozenset({"muy", "tan", "más", "bastante", "una", "realmente"})
_WINDOW = 8
_INFINITIVE = re.compile(r"\w+(ar|er|ir|ír)(me|te|se|lo|la|le|nos|os|los|las|les)*")

ReadingsOf = Callable[[str], Sequence[Reading]]


def _ends_with(words: Sequence[str], end: int, phrase: str) -> bool:
    """Whether words[..end] (inclusive, casefolded) end with the phrase's words."""
    parts = phrase.split()
    start = end - len(parts) + 1
    return start >= 0 and [w.casefold() for w in words[start : end + 1]] == parts


def _wish_or_judgement(words: Sequence[str], readings: ReadingsOf, que: int) -> str | None:
    """The words before "que" at index que that ask for the subjunctive, or None."""
    k = que - 2 if que > 0 and words[que - 1].casefold() == "en" else que - 1  # "insisto en que"
    # "le pido a mi hermano que": who is asked stands between the verb and "que".
    to = next((j for j in range(que - 1, max(-1, que - 5), -1) if words[j].casefold() == "a"), None)
    if to is not None and not any(readings(w) for w in words[to + 1 : que]):
        k = to - 1
    if k < 0:
        return None
    if any(r.lemma in _WISH_LEMMAS and r.tense in _NOW_OR_LATER for r in readings(words[k])):
        return " ".join(words[k : que + 1])
    if words[k].casefold() not in _JUDGEMENTS:
        return None
    j = k - 1
    while j >= 0 and words[j].casefold() in _DEGREE:
        j -= 1
    if j >= 0 and any(
        r.lemma == "ser" and r.tense in _NOW_OR_LATER and r.person == "él"
        for r in readings(words[j])
    ):
        return " ".join(words[j : que + 1])
    return None


def _going_to(words: Sequence[str], readings: ReadingsOf, k: int) -> bool:
    """ "voy a llamar": a present of ir, "a" and an infinitive (not "voy a la cocina")."""
    return (
        k + 2 < len(words)
        and words[k + 1].casefold() == "a"
        and _INFINITIVE.fullmatch(words[k + 2].casefold()) is not None
        and any(r.lemma == "ir" and r.tense == "present" for r in readings(words[k]))
    )


def _main_verb(
    words: Sequence[str], verbs: Sequence[bool], readings: ReadingsOf, span: Sequence[int]
) -> tuple[str, tuple[str, ...]] | None:
    """The verb of a main clause nearest the time clause (span is in the order to look) and the
    moods it leaves the time clause: "te llamaré" the subjunctive, "cené" the indicative, a
    present either (None then: the model reads which)."""
    for k in span:
        if _going_to(words, readings, k):
            return " ".join(words[k : k + 3]), _AFTER_FUTURE
        found = readings(words[k])
        if not found or not verbs[k]:
            continue
        tenses = {r.tense for r in found}
        if tenses == {"future"}:
            return words[k], _AFTER_FUTURE
        return words[k], _AFTER_PAST if tenses <= set(_AFTER_PAST) else ()
    return None


def _main_clause(
    words: Sequence[str],
    boundaries: Sequence[str],
    verbs: Sequence[bool],
    readings: ReadingsOf,
    opener: int,
    verb: int,
) -> tuple[str, tuple[str, ...]] | None:
    """The verb of the clause a time clause depends on, and the moods it allows there: before
    the conjunction, nearest first ("ya te dije que te llamaré cuando llegues"), else after the
    time clause ("cuando llegues, te llamaré")."""
    before = _verb_before(words, boundaries, verbs, readings, opener)
    if before is not None:
        return before
    later = [k for k in range(verb + 1, len(words)) if boundaries[k]]
    if not later or boundaries[later[0]] == ".":
        return None
    end = next((k for k in later[1:] if boundaries[k] == "."), len(words))
    return _main_verb(words, verbs, readings, range(later[0], end))


def _verb_before(
    words: Sequence[str],
    boundaries: Sequence[str],
    verbs: Sequence[bool],
    readings: ReadingsOf,
    opener: int,
) -> tuple[str, tuple[str, ...]] | None:
    """The main verb before a conjunction in its sentence, nearest first (_main_verb)."""
    sentence_start = max((k for k in range(opener + 1) if boundaries[k] == "."), default=0)
    return _main_verb(words, verbs, readings, range(opener - 1, sentence_start - 1, -1))


def mood_cue(
    words: Sequence[str],
    boundaries: Sequence[str],
    verbs: Sequence[bool],
    readings: ReadingsOf,
    i: int,
) -> Cue | None:
    """What asks for the subjunctive in words[i], the first verb after it in the same clause.

    readings gives a word's table readings (to recognise "quiero" or "es" before "que").
    """
    for k in range(i - 1, max(-1, i - 1 - _WINDOW), -1):
        if boundaries[k + 1] or verbs[k]:
            return None
        for phrase in _ALWAYS:
            if _ends_with(words, k, phrase):
                opener = k - len(phrase.split()) + 1
                main = _verb_before(words, boundaries, verbs, readings, opener)
                if main is not None and main[1] == _AFTER_PAST:
                    return None  # "salí antes de que": the imperfect subjunctive, not in the table
                return Cue(" ".join(words[opener : k + 1]), (SUBJUNCTIVE,), "mood")
        for phrase in _TEMPORAL:
            if _ends_with(words, k, phrase):
                opener = k - len(phrase.split()) + 1
                main = _main_clause(words, boundaries, verbs, readings, opener, i)
                if main is None or not main[1]:
                    return None
                return Cue(" ".join(words[opener : k + 1]), main[1], "mood", main[0])
        if words[k].casefold() == "que":
            found = _wish_or_judgement(words, readings, k)
            return None if found is None else Cue(found, (SUBJUNCTIVE,), "mood")
    return None
