"""The tutor's tokenizer: exact round trip for any text; word spans that point into the source."""

from __future__ import annotations

import itertools
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tutor.tokenizer import BOS_ID, EOS_ID, PAD_ID, Span, Tokenizer, words

CORPUS = Path(__file__).resolve().parents[2] / "data" / "eval" / "roundtrip_corpus.txt"
# Every code point, lone surrogates included: a Python str may hold them.
ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()))


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    return Tokenizer()


def corpus_lines() -> list[str]:
    return CORPUS.read_text(encoding="utf-8").splitlines()


def test_corpus_has_what_the_round_trip_must_survive() -> None:
    text = CORPUS.read_text(encoding="utf-8")
    for needle in ("¿", "¡", "ñ", "Ñ", "ü", "😂", "👨\u200d👩", "0", "9", "«", "—", "\t"):
        assert needle in text
    assert any(unicodedata.normalize("NFC", line) != line for line in corpus_lines())
    assert any(line != line.lower() and line != line.upper() for line in corpus_lines())


def test_whole_corpus_round_trips_exactly(tokenizer: Tokenizer) -> None:
    text = CORPUS.read_text(encoding="utf-8")
    assert tokenizer.decode(tokenizer.encode(text)) == text


@pytest.mark.parametrize("line", corpus_lines())
def test_each_corpus_line_round_trips(tokenizer: Tokenizer, line: str) -> None:
    ids = tokenizer.encode(line)
    assert all(0 <= i < tokenizer.vocab_size for i in ids)
    assert tokenizer.decode(ids) == line


@given(ANY_TEXT)
def test_any_string_round_trips(text: str) -> None:
    tokenizer = Tokenizer()
    ids = tokenizer.encode(text)
    assert all(PAD_ID < i < tokenizer.vocab_size and i not in (BOS_ID, EOS_ID) for i in ids)
    assert tokenizer.decode(ids) == text


def test_spanish_text_is_one_token_per_character(tokenizer: Tokenizer) -> None:
    text = "¿Dónde está el niño? ¡Olé! Averigüé, Ñandú, «ÉL», 1.º, 25 €…"
    assert len(tokenizer.encode(text)) == len(text)


def test_characters_outside_the_alphabet_fall_back_to_bytes(tokenizer: Tokenizer) -> None:
    for ch in ("😀", "日", "\u0301", "\ud800"):
        assert len(tokenizer.encode(ch)) == len(ch.encode("utf-8", "surrogatepass"))


def test_decode_skips_specials_and_replaces_broken_bytes(tokenizer: Tokenizer) -> None:
    ids = tokenizer.encode("sé")
    assert tokenizer.decode([BOS_ID, *ids, EOS_ID, PAD_ID]) == "sé"
    lone_lead_byte = tokenizer.encode("😀")[:1]
    assert tokenizer.decode(lone_lead_byte + ids) == "\ufffdsé"


def test_decode_rejects_ids_outside_the_vocabulary(tokenizer: Tokenizer) -> None:
    with pytest.raises(ValueError, match="outside the vocabulary"):
        tokenizer.decode([tokenizer.vocab_size])
    with pytest.raises(ValueError, match="outside the vocabulary"):
        tokenizer.decode([-1])


def test_same_ids_from_every_instance() -> None:
    text = corpus_lines()[0]
    assert Tokenizer().encode(text) == Tokenizer().encode(text)
    assert Tokenizer().vocab_size == Tokenizer().vocab_size


def test_words_finds_spanish_words_with_their_offsets() -> None:
    text = "¿Dónde está? ¡Bien-estar, l'ami y l\u2019été 3 veces- 42!"
    spans = words(text)
    assert [s.text for s in spans] == [
        "Dónde",
        "está",
        "Bien-estar",
        "l'ami",
        "y",
        "l\u2019été",
        "veces",
    ]
    assert all(text[s.start : s.end] == s.text for s in spans)


def test_words_keeps_combining_marks_inside_the_word() -> None:
    decomposed = unicodedata.normalize("NFD", "él está")
    assert [unicodedata.normalize("NFC", s.text) for s in words(decomposed)] == ["él", "está"]


def test_words_ignores_digits_punctuation_and_emoji() -> None:
    assert words("123 ... ¿? 😀 -- ' 4,5") == []


@given(ANY_TEXT)
def test_word_spans_point_into_the_source_in_order(text: str) -> None:
    spans = words(text)
    assert all(isinstance(s, Span) and s.text and text[s.start : s.end] == s.text for s in spans)
    assert all(a.end <= b.start for a, b in itertools.pairwise(spans))
