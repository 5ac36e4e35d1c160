"""Word spans and a lossless character tokenizer for Spanish/English text (UTF-8 byte fallback)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# A letter may carry combining marks (a decomposed "é" is "e" + U+0301), so they stay inside a word.
_COMBINING = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
_LETTER = rf"[^\W\d_][{_COMBINING}]*"
_WORD = re.compile(rf"(?:{_LETTER})+(?:['\u2019\-](?:{_LETTER})+)*")

PAD_ID = 0
BOS_ID = 1
EOS_ID = 2
_SPECIALS = 3
_BYTES = 256

# Frozen: a trained model's embedding rows are indexed by these ids, so the alphabet may only ever
# grow at the end. Anything outside it is spelled as UTF-8 bytes.
_ALPHABET = (
    "\t\n"
    + "".join(chr(c) for c in range(0x20, 0x7F))
    + "áéíóúüñÁÉÍÓÚÜÑ¿¡«»“”\u2018\u2019…\u2013—·€ºª°çÇàèìòùÀÈÌÒÙ"
)


@dataclass(frozen=True)
class Span:
    """A word and where it sits: text == source[start:end]."""

    text: str
    start: int
    end: int


def words(text: str) -> list[Span]:
    """The word tokens of text: runs of letters, joined by an internal hyphen or apostrophe."""
    return [Span(m.group(), m.start(), m.end()) for m in _WORD.finditer(text)]


class Tokenizer:
    """Ids: 0-2 special, then the 256 bytes, then one id per character of a fixed alphabet."""

    def __init__(self) -> None:
        self._char_ids = {ch: _SPECIALS + _BYTES + i for i, ch in enumerate(_ALPHABET)}
        self._id_bytes: dict[int, bytes] = {_SPECIALS + b: bytes([b]) for b in range(_BYTES)}
        self._id_bytes.update({i: _utf8(ch) for ch, i in self._char_ids.items()})
        self.vocab_size: int = _SPECIALS + _BYTES + len(_ALPHABET)
        self.pad_id = PAD_ID
        self.bos_id = BOS_ID
        self.eos_id = EOS_ID

    def encode(self, text: str) -> list[int]:
        """One id per alphabet character; any other character as the ids of its UTF-8 bytes."""
        ids: list[int] = []
        for ch in text:
            char_id = self._char_ids.get(ch)
            if char_id is None:
                ids.extend(_SPECIALS + b for b in _utf8(ch))
            else:
                ids.append(char_id)
        return ids

    def decode(self, ids: Sequence[int]) -> str:
        """The text back; special ids are skipped and bytes that form no character become U+FFFD."""
        data = b"".join(self._bytes_of(i) for i in ids)
        try:
            return data.decode("utf-8", "surrogatepass")
        except UnicodeDecodeError:
            return data.decode("utf-8", "replace")

    def _bytes_of(self, token_id: int) -> bytes:
        if 0 <= token_id < _SPECIALS:
            return b""
        try:
            return self._id_bytes[token_id]
        except KeyError:
            raise ValueError(f"token id {token_id} is outside the vocabulary") from None


def _utf8(ch: str) -> bytes:
    # surrogatepass lets a lone surrogate (legal in a Python str) survive the round trip.
    return ch.encode("utf-8", "surrogatepass")
