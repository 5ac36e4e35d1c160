"""What a verb must agree with: its subject pronoun, a coordinated subject with a pronoun in it,
or, for a verb like gustar, the thing liked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from tutor import lexicon
from tutor.features import SENTENCE
from tutor.verify import Reading


@dataclass(frozen=True)
class Cue:
    """Words of the sentence that fix what a verb may be, and the values they allow (persons for
    agreement, tenses for mood), the first one to suggest."""

    words: str
    allowed: tuple[str, ...]
    kind: Literal["subject", "liked", "mood"] = "subject"  # "liked": a verb like gustar
    # For a conjunction of time, the future verb of the main clause that makes it ask for the
    # subjunctive ("cuando llegues, te llamaré").
    context: str = ""

    @property
    def next_to_verb(self) -> bool:
        """Whether the word after these words must be a verb: after a subject pronoun ("yo se
        la respuesta") or the pronoun of who likes ("me gusto la música"); not after a noun
        ("usted y el señor García recibirán": "García" may still be part of the subject)."""
        last = self.words.split()[-1:] or [""]
        return self.kind == "liked" or last[0].casefold() in lexicon.PRONOUN_PERSONS


# Words that may stand between a subject pronoun and its verb ("yo no me levanto", "tú nunca
# me escuchas").
_BETWEEN = frozenset(
    {"no", "me", "te", "se", "nos", "os", "lo", "la", "los", "las", "le", "les", "siempre"}
    | {word for adverb in lexicon.PRE_VERB_ADVERBS for word in adverb.split()}
)
# Before a pronoun, these make it part of something else: "tú y yo" (coordination), "con él"
# (a prepositional object), "como tú" (a comparison).
_NOT_A_SUBJECT_AFTER = frozenset(
    {"y", "e", "ni", "o", "u", "como", "con", "de", "a", "para", "sin", "entre", "según", "que"}
)
_COORDINATION = frozenset({"y", "e", "ni"})
_WINDOW = 4
# How far back a coordinated subject may start ("mi hermano mayor y tú").
_PHRASE_WINDOW = 8
# Words that start a clause: a noun phrase right after one is that clause's subject.
_CLAUSE_OPENERS = frozenset(
    {"que", "cuando", "si", "porque", "aunque", "mientras", "donde", "pero", "pues"}
)
# Prepositions that make a coordination an object ("con Juan y tú"), not a subject.
_PREPOSITIONS = frozenset({"a", "con", "de", "para", "sin", "entre", "según", "por", "en"})


def _object_of_a_verb(
    verbs: Sequence[bool], words: Sequence[str], boundaries: Sequence[str], end: int
) -> bool:
    """Whether the words before position end, back to the clause's start, follow a verb: then
    they are its object ("hizo la cena y yo puse la mesa"), not a subject ("que mi hermana y
    yo vayamos")."""
    for k in range(end - 1, -1, -1):
        if boundaries[k + 1]:
            return False  # a verb past a comma is another clause's ("cuando llegó, Juan y yo")
        if verbs[k]:
            return True
        if words[k].casefold() in _CLAUSE_OPENERS:
            return False
    return False


def _phrase_start(
    words: Sequence[str], boundaries: Sequence[str], verbs: Sequence[bool], end: int
) -> int:
    """Where the noun phrase ending at words[end] starts: after a mark, a clause opener or a
    verb, at most _PHRASE_WINDOW words back."""
    start = end
    while start > 0 and end - start < _PHRASE_WINDOW and not boundaries[start]:
        before = words[start - 1].casefold()
        if verbs[start - 1] or before in _CLAUSE_OPENERS:
            break
        start -= 1
    return start


def _joint_person(persons: Sequence[str]) -> tuple[str, ...]:
    """The persons a coordinated subject takes: with yo, nosotros; else with tú, vosotros (or
    ustedes, the third person plural, in Latin American usage); else the third person plural."""
    if {"yo", "nosotros"} & set(persons):
        return ("nosotros",)
    if {"tú", "vosotros"} & set(persons):
        return ("vosotros", "ellos")
    return ("ellos",)


def _coordinated(
    words: Sequence[str], boundaries: Sequence[str], verbs: Sequence[bool], end: int
) -> Cue | None:
    """A subject coordinated with y, e or ni that names a subject pronoun ("Pedro y tú", "tú y
    tu hermana", "ni él ni yo", "usted y su esposa"), ending at words[end]; the pronoun alone
    after a "y" that joins clauses ("¿Y tú vienes?"); None for any other phrase (the model reads
    "Juan y María")."""
    start = _phrase_start(words, boundaries, verbs, end)
    if words[start].casefold() in {"y", "e"}:
        start += 1  # nothing before it to join: the "y" opens the clause
    phrase = [w.casefold() for w in words[start : end + 1]]
    if phrase == [words[end].casefold()] and phrase[0] in lexicon.PRONOUN_PERSONS:
        return Cue(words[end], (lexicon.PRONOUN_PERSONS[phrase[0]],))
    if not _COORDINATION & set(phrase) or phrase[0] in _PREPOSITIONS:
        return None
    persons = [lexicon.PRONOUN_PERSONS[w] for w in phrase if w in lexicon.PRONOUN_PERSONS]
    if not persons:
        return None
    return Cue(" ".join(words[start : end + 1]), _joint_person(persons))


def subject_cue(
    words: Sequence[str], boundaries: Sequence[str], verbs: Sequence[bool], i: int
) -> Cue | None:
    """The subject just before words[i] in the same clause when a pronoun settles its person.

    verbs[k] says whether words[k] reads as a verb: when the words before "y yo" follow a verb
    of the same clause, they are its object and "y yo" opens a new clause ("él cocinó la cena y
    yo puse la mesa"); otherwise "y yo" joins a subject ("que mi hermana y yo vayamos").
    """
    for j in range(i - 1, max(-1, i - 1 - _WINDOW), -1):
        if boundaries[j + 1]:
            return None
        word = words[j].casefold()
        if word in lexicon.PRONOUN_PERSONS:
            before = words[j - 1].casefold() if j > 0 and not boundaries[j] else ""
            if before in _COORDINATION and not _object_of_a_verb(verbs, words, boundaries, j - 1):
                return _coordinated(words, boundaries, verbs, j)
            # "quiero que tú vengas" has a subject after "que"; "yo que tú" does not.
            after_que = before == "que" and (j == 1 or words[j - 2].casefold() != "yo")
            if before in _COORDINATION or after_que or before not in _NOT_A_SUBJECT_AFTER:
                return Cue(words[j], (lexicon.PRONOUN_PERSONS[word],))
            return None
        if word not in _BETWEEN:
            # "tú y tu hermana sois": the pronoun opens the coordination.
            return None if verbs[j] else _coordinated(words, boundaries, verbs, j)
    return None


_GUSTAR_LIKE = frozenset(lexicon.GUSTAR_LIKE)
# Pronouns of the person who likes ("me gusta"): a verb like gustar after one agrees with what is
# liked, not with them.
_EXPERIENCERS = frozenset({"me", "te", "le", "nos", "os", "les"})
# Words between a verb like gustar and what is liked ("me gusta mucho el café").
_DEGREE = frozenset(
    {"mucho", "muchísimo", "más", "menos", "bastante", "tanto", "poco", "nada", "demasiado"}
    | {"también", "tampoco", "especialmente", "siempre", "todavía", "ya"}
)
_PLURAL_DETERMINERS = frozenset(lexicon.PLURAL_DETERMINERS)
_SINGULAR_DETERMINERS = frozenset(lexicon.SINGULAR_DETERMINERS)


def _number_of(words: Sequence[str], verbs: Sequence[bool], k: int, end: int) -> str | None:
    """Whether the phrase words[k:end] opens with is singular ("él") or plural ("ellos"), read
    off its first word; noun phrases or names joined by "y" are plural ("el café y el té",
    "Madrid y Sevilla"), a pronoun object after "y" is not ("la música y la escucho")."""
    first = words[k].casefold()
    if first in lexicon.PRONOUN_PERSONS:
        return lexicon.PRONOUN_PERSONS[first]
    if first.endswith(("ar", "er", "ir")):
        return "él"  # an infinitive: "me gusta leer (y escribir)"
    if first in _PLURAL_DETERMINERS:
        return "ellos"
    name = words[k][:1].isupper()
    if first not in _SINGULAR_DETERMINERS and not name:
        return None
    for j in range(k + 1, min(end - 1, k + 5)):
        if words[j].casefold() not in {"y", "e"}:
            continue
        after, then = words[j + 1], j + 2 < end and verbs[j + 2]
        if (_determiner(after) and not then) or (name and after[:1].isupper()):
            return "ellos"
    return "él"


def _shown(words: Sequence[str], k: int, end: int) -> str:
    """What is liked, as the explanation quotes it: up to three words, not past a "y"."""
    shown = [words[k]]
    for word in words[k + 1 : min(end, k + 3)]:
        if word.casefold() in {"y", "e"}:
            break
        shown.append(word)
    return " ".join(shown)


# What a verb like gustar in the first or second person may still mean with its own subject:
# "te molesto" (I bother you) is right, "me gusto la música" (agreeing with who likes) is not.
_OWN_PERSON = {"me": "yo", "te": "tú", "nos": "nosotros", "os": "vosotros"}


def liked_cue(
    words: Sequence[str],
    boundaries: Sequence[str],
    verbs: Sequence[bool],
    i: int,
    readings: Sequence[Reading],
) -> Cue | None:
    """What a verb like gustar at words[i] agrees with: the thing liked, after it ("me gustan los
    libros") or before the pronoun of who likes ("los idiomas me interesan"), when a pronoun
    like "me" or "les" shows the verb is used that way. readings are the word's (the table's,
    or the slots a misspelling misses): a first or second person with a subject of its own
    ("te molesto") is that verb's other use."""
    persons = {r.person for r in readings if r.lemma in _GUSTAR_LIKE}
    if not persons or i == 0 or boundaries[i] or words[i - 1].casefold() not in _EXPERIENCERS:
        return None
    own = _OWN_PERSON.get(words[i - 1].casefold())
    if not persons & {"él", "ellos"} and own not in persons:
        return None
    end = next((k for k in range(i + 1, len(words)) if boundaries[k]), len(words))
    k = i + 1
    while k < end and words[k].casefold() in _DEGREE:
        k += 1
    person = _number_of(words, verbs, k, end) if k < end else None
    if person is not None:
        return Cue(_shown(words, k, end), (person,), "liked")
    return _liked_before(words, boundaries, verbs, i - 2)


def _liked_before(
    words: Sequence[str], boundaries: Sequence[str], verbs: Sequence[bool], k: int
) -> Cue | None:
    """The subject before "me gusta" that ends at words[k]: "tú (me gustas)", "los idiomas (me
    interesan)"; never who likes ("a mi padre le duele") nor a clause ("que no te preocupas")."""
    while k >= 0 and not boundaries[k + 1] and words[k].casefold() in {"no", *_DEGREE}:
        k -= 1
    if k < 0 or boundaries[k + 1] or verbs[k]:
        return None
    last = words[k].casefold()
    before = words[k - 1].casefold() if k > 0 else ""
    if last in lexicon.PRONOUN_PERSONS:
        if before in _NOT_A_SUBJECT_AFTER:
            return None
        return Cue(words[k], (lexicon.PRONOUN_PERSONS[last],), "liked")
    if last in _CLAUSE_OPENERS or last in _SINGULAR_DETERMINERS | _PLURAL_DETERMINERS:
        return None
    start = next((j for j in range(k - 1, max(-1, k - 4), -1) if _determiner(words[j])), None)
    if start is None or any(verbs[start : k + 1]):
        return None
    if start > 0 and words[start - 1].casefold() == "a":
        return None  # "a mi padre le duele": who is hurt, not what hurts
    person = _number_of(words, verbs, start, k + 1)
    return None if person is None else Cue(" ".join(words[start : k + 1]), (person,), "liked")


def _determiner(word: str) -> bool:
    return word.casefold() in (_PLURAL_DETERMINERS | _SINGULAR_DETERMINERS) - {"que", "lo"}


def clitic_before_verb(
    words: Sequence[str], boundaries: Sequence[str], verbs: Sequence[bool], i: int
) -> bool:
    """ "se" in "ellos se despidieron": a pronoun before a verb of its clause, never "sé"."""
    return (
        words[i].casefold() in lexicon.CLITICS
        and i + 1 < len(words)
        and not boundaries[i + 1]
        and verbs[i + 1]
    )


def a_name(words: Sequence[str], boundaries: Sequence[str], i: int) -> bool:
    """A capitalised word inside a sentence ("que Irene y ella viajen", "sin que Lucía lo
    sepa") names someone: it is no verb, whatever its letters look like."""
    return i > 0 and boundaries[i] != SENTENCE and words[i][:1].isupper()
