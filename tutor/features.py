"""Turn words into the character ids both the torch model and the numpy forward pass read."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

# Letters a Spanish learner types; anything else is one shared "other" id, so an unseen symbol
# never breaks the encoder and invisible format characters (zero-width joiners) are dropped.
ALPHABET = "abcdefghijklmnopqrstuvwxyzáéíóúüñàèìòùâêîôûäëïöç'-0123456789"
PAD, OTHER, END = 0, 1, 2
# A word's first id says whether it is capitalised and what punctuation comes before it.
CLAUSE, SENTENCE = ",", "."
_STARTS = {
    (boundary, capital): 3 + i
    for i, (boundary, capital) in enumerate(
        (b, c) for b in ("", CLAUSE, SENTENCE) for c in (False, True)
    )
}
_OFFSET = 3 + len(_STARTS)
_SENTENCE_PUNCTUATION = frozenset(".!?…\n")
_CLAUSE_PUNCTUATION = frozenset(",;:()[]{}<>\"'«»\u2014\u2013`\u201c\u201d\u2018\u2019")
_IDS = {ch: i + _OFFSET for i, ch in enumerate(ALPHABET)}
CHAR_VOCAB_SIZE = len(ALPHABET) + _OFFSET
# Long words keep their last letters: the ending is what carries tense and person.
MAX_WORD_CHARS = 18


# Cyrillic and Greek letters that look like Latin ones: a reader sees the Latin letter, so the
# tutor reads it too (and an odd letter cannot hide a wrong form from the table).
_LOOKALIKES = str.maketrans(
    "аеорсухіјѕԁԛԝһӏАВЕКМНОРСТХІЈЅοαινκρυχΑΒΕΖΗΙΚΜΝΟΡΤΥΧ",
    "aeopcyxijsdqwhlABEKMHOPCTXIJSoaivkpuxABEZHIKMNOPTYX",
)


def canonical_text(text: str) -> str:
    """The text a reader sees: no format characters (zero-width, bidi), NFKC, look-alikes folded."""
    visible = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return unicodedata.normalize(
        "NFC", unicodedata.normalize("NFKC", visible).translate(_LOOKALIKES)
    )


def boundary(between: str) -> str:
    """What separates a word from the one before it: SENTENCE, CLAUSE or "" (a space)."""
    if _SENTENCE_PUNCTUATION.intersection(between):
        return SENTENCE
    if _CLAUSE_PUNCTUATION.intersection(between):
        return CLAUSE
    return ""


def model_token(word: str, before: str) -> str:
    """The string the model reads for a word: its boundary mark, then the word."""
    return before + word


def char_ids(token: str) -> list[int]:
    """Start id (boundary mark, capital or not), the letters, end id."""
    before = token[:1] if token[:1] in (CLAUSE, SENTENCE) else ""
    text = canonical_text(token[len(before) :])
    start = _STARTS[(before, text[:1].isupper())]
    letters = [_IDS.get(ch, OTHER) for ch in text.lower()][-MAX_WORD_CHARS:]
    return [start, *letters, END]


def char_matrix(words: Sequence[str]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Padded (n_words, max_len) ids and each word's length."""
    rows = [char_ids(w) for w in words]
    lengths = np.array([len(r) for r in rows], dtype=np.int64)
    width = int(lengths.max()) if len(rows) else 1
    matrix = np.zeros((len(rows), width), dtype=np.int64)
    for i, row in enumerate(rows):
        matrix[i, : len(row)] = row
    return matrix, lengths
