"""The ground-truth conjugation table: load and validate it, pin its digest, look up forms."""

from __future__ import annotations

import hashlib
import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import yaml

TENSES: tuple[str, ...] = (
    "present",
    "preterite",
    "imperfect",
    "future",
    "conditional",
    "present_subjunctive",
)
PERSONS: tuple[str, ...] = ("yo", "tú", "él", "nosotros", "vosotros", "ellos")

DEFAULT_TABLE_PATH: Path = Path(__file__).resolve().parent.parent / "data" / "verbs.yaml"
TABLE_PATH_ENV = "TUTOR_TABLE_PATH"

# The digest of the exact bytes of data/verbs.yaml. A table edit must update this line in the same
# change, so nobody can alter the ground truth without it showing up in review.
PINNED_TABLE_SHA256 = "667e0a6776f1daeb866b9352c4d91713ee4d992834ba217819b2c0500450fa11"

_STR_TAG = "tag:yaml.org,2002:str"
# libyaml's loader is 4x faster on this table; both give the same nodes and line marks.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_VERB_KEYS = ("english", *TENSES)


class TableError(ValueError):
    """The table cannot be used; the message reads "<file>:<line>: <reason>"."""

    def __init__(self, path: Path, line: int, reason: str) -> None:
        super().__init__(f"{path}:{line}: {reason}")
        self.path = path
        self.line = line
        self.reason = reason


class IntegrityError(TableError):
    """The table's bytes do not hash to PINNED_TABLE_SHA256."""


@dataclass(frozen=True)
class Reading:
    """One analysis of a verb form: which verb, tense and person it is."""

    lemma: str
    tense: str
    person: str


def normalize(word: str) -> str:
    """The key forms are compared under: NFC, casefolded, surrounding whitespace dropped."""
    # Canonical caseless matching (Unicode 3.13): casefold between decompositions, so "É", "é" and
    # "e" + U+0301 all meet.
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", word).strip().casefold())


def table_path() -> Path:
    """Where the table is read from: $TUTOR_TABLE_PATH if set, else data/verbs.yaml in the repo."""
    override = os.environ.get(TABLE_PATH_ENV)
    return Path(override) if override else DEFAULT_TABLE_PATH


def sha256_hex(data: bytes) -> str:
    """Hex sha256 of the table's bytes, the value PINNED_TABLE_SHA256 holds."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class _Verb:
    english: str
    slots: dict[tuple[str, str], tuple[str, ...]]


class ConjugationTable:
    """Every form of every verb in the table, with a reverse index from form to readings."""

    def __init__(self, digest: str, verbs: dict[str, _Verb]) -> None:
        self.digest = digest
        self.lemmas: tuple[str, ...] = tuple(verbs)
        self._verbs = verbs
        index: dict[str, list[Reading]] = {}
        for lemma, verb in verbs.items():
            for (tense, person), forms in verb.slots.items():
                for form in dict.fromkeys(normalize(f) for f in forms):
                    index.setdefault(form, []).append(Reading(lemma, tense, person))
        self._index = {form: tuple(readings) for form, readings in index.items()}

    @classmethod
    def load(cls, path: Path | None = None, *, verify_pin: bool = True) -> ConjugationTable:
        """Read, pin-check and validate a table; raises TableError (or IntegrityError)."""
        source = table_path() if path is None else path
        try:
            data = source.read_bytes()
        except OSError as exc:
            raise TableError(source, 0, f"cannot read the table: {exc.strerror}") from exc
        hex_digest = sha256_hex(data)
        if verify_pin and hex_digest != PINNED_TABLE_SHA256:
            raise IntegrityError(
                source,
                1,
                f"sha256 is {hex_digest} but tutor/verify.py pins {PINNED_TABLE_SHA256}; "
                "if the table edit is deliberate, update PINNED_TABLE_SHA256 with it",
            )
        return cls(f"sha256:{hex_digest}", parse_table(data, source))

    def english(self, lemma: str) -> str:
        """The English gloss, e.g. "to speak"."""
        return self._verb(lemma).english

    def forms(self, lemma: str, tense: str, person: str) -> tuple[str, ...]:
        """Every accepted form of one slot, preferred first; KeyError for an unknown slot."""
        verb = self._verb(lemma)
        if tense not in TENSES:
            raise KeyError(f"unknown tense {tense!r}")
        if person not in PERSONS:
            raise KeyError(f"unknown person {person!r}")
        return verb.slots[(tense, person)]

    def preferred(self, lemma: str, tense: str, person: str) -> str:
        """The form to suggest for one slot."""
        return self.forms(lemma, tense, person)[0]

    def accepts(self, form: str, lemma: str, tense: str, person: str) -> bool:
        """Whether `form` is an accepted spelling of the slot (NFC and case-insensitive)."""
        wanted = normalize(form)
        return any(normalize(f) == wanted for f in self.forms(lemma, tense, person))

    def readings(self, word: str) -> tuple[Reading, ...]:
        """Every (lemma, tense, person) that `word` is a form of, in table order."""
        return self._index.get(normalize(word), ())

    def _verb(self, lemma: str) -> _Verb:
        try:
            return self._verbs[lemma]
        except KeyError:
            raise KeyError(f"unknown verb {lemma!r}") from None


def parse_table(data: bytes, path: Path) -> dict[str, _Verb]:
    """Validate the table's bytes and return its verbs; every problem names its file and line."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise TableError(path, line, "not valid UTF-8") from exc
    try:
        root = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise TableError(path, line, f"invalid YAML: {exc.problem or exc.context}") from exc
    if root is None:
        raise TableError(path, 1, "the table is empty")
    top = _mapping(root, path, "the top level")
    if [_string(key, path, "a top-level key") for key, _ in top] != ["verbs"]:
        raise TableError(path, _line(root), "the top level must have exactly one key, 'verbs'")
    verbs_node = top[0][1]
    verbs: dict[str, _Verb] = {}
    for key_node, value_node in _mapping(verbs_node, path, "'verbs'"):
        lemma = _word(key_node, path, "verb name")
        if lemma in verbs:
            raise TableError(path, _line(key_node), f"duplicate verb {lemma!r}")
        verbs[lemma] = _parse_verb(lemma, _line(key_node), value_node, path)
    if not verbs:
        raise TableError(path, _line(verbs_node), "'verbs' has no verbs")
    return verbs


def _parse_verb(lemma: str, line: int, node: yaml.Node, path: Path) -> _Verb:
    fields: dict[str, yaml.Node] = {}
    for key_node, value_node in _mapping(node, path, f"verb {lemma!r}"):
        key = _string(key_node, path, f"a key of verb {lemma!r}")
        if key not in _VERB_KEYS:
            raise TableError(
                path,
                _line(key_node),
                f"verb {lemma!r}: unknown key {key!r} (expected one of {', '.join(_VERB_KEYS)})",
            )
        if key in fields:
            raise TableError(path, _line(key_node), f"verb {lemma!r}: duplicate key {key!r}")
        fields[key] = value_node
    missing = [key for key in _VERB_KEYS if key not in fields]
    if missing:
        raise TableError(path, line, f"verb {lemma!r}: missing {', '.join(missing)}")
    english = _string(fields["english"], path, f"verb {lemma!r}: english")
    if not english.strip():
        raise TableError(path, _line(fields["english"]), f"verb {lemma!r}: empty english gloss")
    slots: dict[tuple[str, str], tuple[str, ...]] = {}
    for tense in TENSES:
        tense_node = fields[tense]
        items = _sequence(tense_node, path, f"verb {lemma!r}: {tense}")
        if len(items) != len(PERSONS):
            raise TableError(
                path,
                _line(tense_node),
                f"verb {lemma!r}: {tense} has {len(items)} persons, expected {len(PERSONS)} "
                f"({', '.join(PERSONS)})",
            )
        for person, slot_node in zip(PERSONS, items, strict=True):
            slots[(tense, person)] = _slot(slot_node, path, f"verb {lemma!r}: {tense}/{person}")
    return _Verb(english, slots)


def _slot(node: yaml.Node, path: Path, what: str) -> tuple[str, ...]:
    nodes = _sequence(node, path, what) if isinstance(node, yaml.SequenceNode) else [node]
    if not nodes:
        raise TableError(path, _line(node), f"{what}: empty list of forms")
    forms = tuple(_word(item, path, what) for item in nodes)
    if len(set(forms)) != len(forms):
        raise TableError(path, _line(node), f"{what}: a form is listed twice")
    return forms


def _word(node: yaml.Node, path: Path, what: str) -> str:
    """A lowercase, NFC, letters-only word: a verb name or a form."""
    word = _string(node, path, what)
    if not word:
        raise TableError(path, _line(node), f"{what}: empty form")
    if unicodedata.normalize("NFC", word) != word:
        raise TableError(path, _line(node), f"{what}: {word!r} is not NFC-normalised")
    if not all(ch.isalpha() and ch.islower() for ch in word):
        raise TableError(path, _line(node), f"{what}: {word!r} must be lowercase letters only")
    return word


def _string(node: yaml.Node, path: Path, what: str) -> str:
    if not isinstance(node, yaml.ScalarNode) or node.tag != _STR_TAG:
        raise TableError(path, _line(node), f"{what}: expected a string, got {_kind(node)}")
    return str(node.value)


def _mapping(node: yaml.Node, path: Path, what: str) -> list[tuple[yaml.Node, yaml.Node]]:
    if not isinstance(node, yaml.MappingNode):
        raise TableError(path, _line(node), f"{what} must be a mapping, got {_kind(node)}")
    return list(node.value)


def _sequence(node: yaml.Node, path: Path, what: str) -> list[yaml.Node]:
    if not isinstance(node, yaml.SequenceNode):
        raise TableError(path, _line(node), f"{what} must be a list, got {_kind(node)}")
    return list(node.value)


def _kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.ScalarNode):
        return f"{node.tag.rsplit(':', 1)[-1]} {node.value!r}"
    return "a list" if isinstance(node, yaml.SequenceNode) else "a mapping"


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1
