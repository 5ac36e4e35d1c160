"""What a learner who over-applies the regular patterns writes: regular endings on any lemma."""

from __future__ import annotations

import unicodedata

from tutor.verify import PERSONS, TENSES

# The regular endings of each verb class, also what tools/gen_verbs.py builds the table from.
ENDINGS: dict[str, dict[str, tuple[str, ...]]] = {
    "ar": {
        "present": ("o", "as", "a", "amos", "áis", "an"),
        "preterite": ("é", "aste", "ó", "amos", "asteis", "aron"),
        "imperfect": ("aba", "abas", "aba", "ábamos", "abais", "aban"),
        "present_subjunctive": ("e", "es", "e", "emos", "éis", "en"),
    },
    "er": {
        "present": ("o", "es", "e", "emos", "éis", "en"),
        "preterite": ("í", "iste", "ió", "imos", "isteis", "ieron"),
        "imperfect": ("ía", "ías", "ía", "íamos", "íais", "ían"),
        "present_subjunctive": ("a", "as", "a", "amos", "áis", "an"),
    },
    "ir": {
        "present": ("o", "es", "e", "imos", "ís", "en"),
        "preterite": ("í", "iste", "ió", "imos", "isteis", "ieron"),
        "imperfect": ("ía", "ías", "ía", "íamos", "íais", "ían"),
        "present_subjunctive": ("a", "as", "a", "amos", "áis", "an"),
    },
}
# Future and conditional endings go on the whole infinitive, whatever its class.
FUTURE: tuple[str, ...] = ("é", "ás", "á", "emos", "éis", "án")
CONDITIONAL: tuple[str, ...] = ("ía", "ías", "ía", "íamos", "íais", "ían")
_ON_INFINITIVE: dict[str, tuple[str, ...]] = {"future": FUTURE, "conditional": CONDITIONAL}


def strip_accents(text: str) -> str:
    """Drop acute accents and diaeresis but keep ñ (a learner's typical accent slip)."""
    out = []
    for ch in unicodedata.normalize("NFD", text):
        if ch in "\u0301\u0308":
            continue
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


def infinitive(lemma: str) -> str:
    """The bare infinitive: a reflexive lemma loses its 'se', an accented 'ír' its accent."""
    base = lemma[:-2] if lemma.endswith(("arse", "erse", "irse", "írse")) else lemma
    return strip_accents(base)


def regular_form(lemma: str, tense: str, person: str) -> str | None:
    """The regular form of lemma for this slot, or None when it is not an -ar/-er/-ir verb."""
    base = infinitive(lemma)
    ending_class = base[-2:]
    if ending_class not in ENDINGS or len(base) < 3:
        return None
    index = PERSONS.index(person)
    if tense in _ON_INFINITIVE:
        return base + _ON_INFINITIVE[tense][index]
    return base[:-2] + ENDINGS[ending_class][tense][index]


def regular_paradigm(lemma: str) -> dict[tuple[str, str], str]:
    """Every (tense, person) slot of lemma conjugated regularly (empty for a non-verb shape)."""
    slots: dict[tuple[str, str], str] = {}
    for tense in TENSES:
        for person in PERSONS:
            form = regular_form(lemma, tense, person)
            if form is not None:
                slots[(tense, person)] = form
    return slots
