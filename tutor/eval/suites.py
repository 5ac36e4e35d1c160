"""Eval items: their schema, and loading them from JSON Lines or YAML with file:line errors."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

VERDICTS: tuple[str, ...] = ("correct", "incorrect", "no_verb_found")

# Every error type an item may carry. "correct" and "no_verb" go with their own verdicts; the others
# name the learner mistake behind an "incorrect" item.
ERROR_TYPES: tuple[str, ...] = (
    "correct",
    "no_verb",
    "regularised_irregular",
    "wrong_person",
    "wrong_tense",
    "wrong_mood",
    "stem_change",
    "spelling_accent",
)

# How an injection item tries to subvert the tutor (documented in data/eval/README.md).
ATTACKS: tuple[str, ...] = (
    "instruction",
    "role_play",
    "fake_system",
    "code_fence",
    "html",
    "zero_width",
    "homoglyph",
    "nfd",
    "bidi",
    "padding",
    "false_claim",
)

# The families of harder Spanish the held-out suite is reported by (data/eval/README.md).
FAMILIES: tuple[str, ...] = (
    "compound_subject",
    "reflexive_stem_change",
    "mood_trigger",
    "gustar_agreement",
)

MAX_SENTENCE_CHARS = 1000

_ITEM_KEYS = frozenset(
    {"id", "sentence", "error_type", "expect", "verbs", "not_verbs", "attack", "family"}
)
_SLOT_KEYS = ("lemma", "tense", "person")


class SuiteError(ValueError):
    """A suite file is missing or malformed; the message reads "<file>:<line>: <reason>"."""


@dataclass(frozen=True)
class Slot:
    """Which conjugation slot a form fills: the verb meant, its tense and its person."""

    lemma: str
    tense: str
    person: str


@dataclass(frozen=True)
class ExpectedCorrection:
    """A wrong form the tutor must flag, the table's preferred form for it, and (optionally) why."""

    original: str
    suggestion: str
    slot: Slot | None


@dataclass(frozen=True)
class VerbNote:
    """A correctly conjugated verb in an item, noted so the data can be checked."""

    form: str
    slot: Slot


@dataclass(frozen=True)
class Item:
    """One exam sentence with the answer the tutor must give."""

    id: str
    sentence: str
    error_type: str
    verdict: str
    corrections: tuple[ExpectedCorrection, ...]
    verbs: tuple[VerbNote, ...] = ()
    not_verbs: tuple[str, ...] = ()
    attack: str | None = None
    family: str | None = None
    line: int = 0


@dataclass(frozen=True)
class Suite:
    """The items of one exam file."""

    name: str
    path: Path
    items: tuple[Item, ...]


def _text(raw: Mapping[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}{key!r} must be a non-empty string")
    return value


def _slot(raw: Mapping[str, Any], where: str) -> Slot:
    lemma, tense, person = (_text(raw, key, where) for key in _SLOT_KEYS)
    return Slot(lemma, tense, person)


def _optional_slot(raw: Mapping[str, Any], where: str) -> Slot | None:
    present = [key for key in _SLOT_KEYS if key in raw]
    if not present:
        return None
    if len(present) != len(_SLOT_KEYS):
        raise ValueError(f"{where}give all of lemma, tense and person, or none of them")
    return _slot(raw, where)


def _mapping(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{what} must be a mapping")
    return value


def _list(value: object, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError(f"{what} must be a list")
    return value


def _correction(raw: object, index: int) -> ExpectedCorrection:
    where = f"expect.corrections[{index}]: "
    entry = _mapping(raw, where.rstrip(": "))
    unknown = set(entry) - {"original", "suggestion", *_SLOT_KEYS}
    if unknown:
        raise ValueError(f"{where}unknown key(s) {', '.join(sorted(unknown))}")
    return ExpectedCorrection(
        original=_text(entry, "original", where),
        suggestion=_text(entry, "suggestion", where),
        slot=_optional_slot(entry, where),
    )


def _verb_note(raw: object, index: int) -> VerbNote:
    where = f"verbs[{index}]: "
    entry = _mapping(raw, where.rstrip(": "))
    unknown = set(entry) - {"form", *_SLOT_KEYS}
    if unknown:
        raise ValueError(f"{where}unknown key(s) {', '.join(sorted(unknown))}")
    return VerbNote(form=_text(entry, "form", where), slot=_slot(entry, where))


def _expected_verdict(error_type: str) -> str:
    return {"correct": "correct", "no_verb": "no_verb_found"}.get(error_type, "incorrect")


def parse_item(raw: object, line: int = 0) -> Item:
    """Validate one decoded item; raises ValueError with the reason when it breaks the schema."""
    entry = _mapping(raw, "an item")
    unknown = set(entry) - _ITEM_KEYS
    if unknown:
        raise ValueError(f"unknown key(s) {', '.join(sorted(unknown))}")
    sentence = _text(entry, "sentence", "")
    if len(sentence) > MAX_SENTENCE_CHARS:
        raise ValueError(f"sentence has {len(sentence)} characters, over {MAX_SENTENCE_CHARS}")
    error_type = _text(entry, "error_type", "")
    if error_type not in ERROR_TYPES:
        raise ValueError(f"error_type {error_type!r} is not one of {', '.join(ERROR_TYPES)}")
    expect = _mapping(entry.get("expect"), "'expect'")
    verdict = _text(expect, "verdict", "expect.")
    if verdict not in VERDICTS:
        raise ValueError(f"verdict {verdict!r} is not one of {', '.join(VERDICTS)}")
    if verdict != _expected_verdict(error_type):
        raise ValueError(
            f"error_type {error_type!r} needs verdict {_expected_verdict(error_type)!r}"
        )
    corrections = tuple(
        _correction(c, i) for i, c in enumerate(_list(expect.get("corrections", []), "corrections"))
    )
    if (verdict == "incorrect") != bool(corrections):
        raise ValueError(
            "an 'incorrect' item needs corrections, and only such an item may have them"
        )
    attack = entry.get("attack")
    if attack is not None and attack not in ATTACKS:
        raise ValueError(f"attack {attack!r} is not one of {', '.join(ATTACKS)}")
    family = entry.get("family")
    if family is not None and family not in FAMILIES:
        raise ValueError(f"family {family!r} is not one of {', '.join(FAMILIES)}")
    not_verbs = _list(entry.get("not_verbs", []), "not_verbs")
    if not all(isinstance(word, str) and word for word in not_verbs):
        raise ValueError("not_verbs must be a list of non-empty strings")
    return Item(
        id=_text(entry, "id", ""),
        sentence=sentence,
        error_type=error_type,
        verdict=verdict,
        corrections=corrections,
        verbs=tuple(_verb_note(v, i) for i, v in enumerate(_list(entry.get("verbs", []), "verbs"))),
        not_verbs=tuple(not_verbs),
        attack=attack,
        family=family,
        line=line,
    )


def _jsonl_records(text: str) -> Iterator[tuple[int, object]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as error:
            raise SuiteError(f"{number}: invalid JSON: {error.msg}") from error


def _yaml_records(text: str) -> Iterator[tuple[int, object]]:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise SuiteError(f"{line}: invalid YAML: {error}") from error
    items = data.get("items") if isinstance(data, dict) else None
    if root is None or not isinstance(items, list):
        raise SuiteError("1: a YAML suite is a mapping with an 'items' list")
    item_nodes: Sequence[yaml.Node] = next(
        value.value for key, value in root.value if key.value == "items"
    )
    for node, item in zip(item_nodes, items, strict=True):
        yield node.start_mark.line + 1, item


def parse_suite(name: str, path: Path, text: str) -> Suite:
    """Parse a suite's text (JSON Lines, or YAML when the path ends in .yaml/.yml)."""
    records = _yaml_records if path.suffix in {".yaml", ".yml"} else _jsonl_records
    items: list[Item] = []
    seen: dict[str, int] = {}
    line = 1
    try:
        for line, record in records(text):
            item = parse_item(record, line)
            if item.id in seen:
                raise ValueError(f"duplicate id {item.id!r} (first on line {seen[item.id]})")
            seen[item.id] = line
            items.append(item)
    except SuiteError as error:
        raise SuiteError(f"{path}:{error}") from error
    except ValueError as error:
        raise SuiteError(f"{path}:{line}: {error}") from error
    if not items:
        raise SuiteError(f"{path}:1: the suite has no items")
    return Suite(name=name, path=path, items=tuple(items))


def load_suite(name: str, path: Path) -> Suite:
    """Read and parse one suite file; every failure is a SuiteError naming file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SuiteError(f"{path}:1: cannot read the suite: {error}") from error
    return parse_suite(name, path, text)
