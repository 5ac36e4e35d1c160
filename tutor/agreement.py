"""The subject pronoun right before a verb, which fixes the person the verb must take."""

from __future__ import annotations

from collections.abc import Sequence

from tutor import lexicon

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
# Words that start a clause: a noun phrase right after one is that clause's subject.
_CLAUSE_OPENERS = frozenset(
    {"que", "cuando", "si", "porque", "aunque", "mientras", "donde", "pero", "pues"}
)


def _object_of_a_verb(
    verbs: Sequence[bool], words: Sequence[str], boundaries: Sequence[str], end: int
) -> bool:
    """Whether the words before position end, back to the clause's start, follow a verb: then
    they are its object ("hizo la cena y yo puse la mesa"), not a subject ("que mi hermana y
    yo vayamos")."""
    for k in range(end - 1, -1, -1):
        if verbs[k]:
            return True
        if boundaries[k + 1] or words[k].casefold() in _CLAUSE_OPENERS:
            return False
    return False


def subject_person(
    words: Sequence[str], boundaries: Sequence[str], verbs: Sequence[bool], i: int
) -> str | None:
    """The person of a subject pronoun just before words[i] in the same clause, if any.

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
            if word == "yo" and before in _COORDINATION:
                if _object_of_a_verb(verbs, words, boundaries, j - 1):
                    return "yo"
                return "nosotros"  # "mi hermana y yo", "ni él ni yo": the speaker is included
            # "quiero que tú vengas" has a subject after "que"; "yo que tú" does not.
            if before == "que" and j > 1 and words[j - 2].casefold() != "yo":
                return lexicon.PRONOUN_PERSONS[word]
            return None if before in _NOT_A_SUBJECT_AFTER else lexicon.PRONOUN_PERSONS[word]
        if word not in _BETWEEN:
            return None
    return None
