"""The verifier: pin check, file:line validation errors, lookups and the reverse index."""

from __future__ import annotations

import hashlib
import unicodedata
from pathlib import Path

import pytest

from tutor.verify import (
    DEFAULT_TABLE_PATH,
    PERSONS,
    PINNED_TABLE_SHA256,
    TABLE_PATH_ENV,
    TENSES,
    ConjugationTable,
    IntegrityError,
    Reading,
    TableError,
)


def copy_with(tmp_path: Path, old: str, new: str) -> tuple[Path, int]:
    """A copy of the table with the first `old` replaced by `new`, and the line of that edit."""
    text = DEFAULT_TABLE_PATH.read_text(encoding="utf-8")
    at = text.index(old)
    copy = tmp_path / "verbs.yaml"
    copy.write_text(text[:at] + new + text[at + len(old) :], encoding="utf-8")
    return copy, text.count("\n", 0, at) + 1


# --- the pin -----------------------------------------------------------------------------------


def test_an_edited_copy_fails_integrity(tmp_path: Path) -> None:
    copy, _ = copy_with(tmp_path, "present: [sé,", "present: [sabo,")
    with pytest.raises(IntegrityError) as caught:
        ConjugationTable.load(copy)
    assert str(caught.value).startswith(f"{copy}:1: sha256 is ")
    assert PINNED_TABLE_SHA256 in str(caught.value)


def test_a_comment_only_edit_also_fails_integrity(tmp_path: Path) -> None:
    copy, _ = copy_with(tmp_path, "# Ground truth", "#  Ground truth")
    with pytest.raises(IntegrityError):
        ConjugationTable.load(copy)


def test_without_the_pin_check_the_edit_is_what_you_get(tmp_path: Path) -> None:
    copy, _ = copy_with(tmp_path, "present: [sé,", "present: [sabo,")
    edited = ConjugationTable.load(copy, verify_pin=False)
    assert edited.preferred("saber", "present", "yo") == "sabo"
    assert edited.digest == "sha256:" + hashlib.sha256(copy.read_bytes()).hexdigest()


def test_the_environment_variable_chooses_the_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy, _ = copy_with(tmp_path, "present: [sé,", "present: [sabo,")
    monkeypatch.setenv(TABLE_PATH_ENV, str(copy))
    with pytest.raises(IntegrityError):
        ConjugationTable.load()
    assert ConjugationTable.load(verify_pin=False).preferred("saber", "present", "yo") == "sabo"


def test_a_missing_file_is_a_table_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(TableError, match=rf"^{missing}:0: cannot read the table"):
        ConjugationTable.load(missing)


# --- validation: broken copies fail with file:line ------------------------------------------

BROKEN = [
    pytest.param(
        "    preterite: [hablé", "    preterit: [hablé", "unknown key 'preterit'", id="tense-name"
    ),
    pytest.param(
        "habláis, hablan]", "habláis]", "present has 5 persons, expected 6", id="missing-person"
    ),
    pytest.param(
        "hablamos, habláis",
        "hablamos, " + unicodedata.normalize("NFD", "habláis"),
        "is not NFC-normalised",
        id="not-nfc",
    ),
    pytest.param("[hablo, hablas", "['', hablas", "empty form", id="empty-form"),
    pytest.param("[hablo, hablas", "[[], hablas", "empty list of forms", id="empty-slot"),
    pytest.param("[hablo, hablas", "[Hablo, hablas", "must be lowercase letters", id="capital"),
    pytest.param("[hablo, hablas", "[hablo hablo, hablas", "lowercase letters", id="two-words"),
    pytest.param("[hablo, hablas", "[[hablo, hablo], hablas", "listed twice", id="dup-form"),
    pytest.param("[hablo, hablas", "[yes, hablas", "expected a string, got bool", id="bool"),
    pytest.param("[hablo, hablas", "[12, hablas", "expected a string, got int", id="int"),
    pytest.param('english: "to speak"', "english: 3", "expected a string, got int", id="english"),
    pytest.param('english: "to speak"', 'english: " "', "empty english gloss", id="empty-gloss"),
    pytest.param("[hablo, hablas", "[hablo, hablas]]", "invalid YAML", id="yaml-syntax"),
    pytest.param("[hablo, hablas", "[hablo,, hablas", "invalid YAML", id="yaml-comma"),
    pytest.param("    present: [hablo", "\tpresent: [hablo", "invalid YAML", id="yaml-tab"),
    pytest.param("  hablar:\n", "  hablar:\n    futuro: [a]\n", "unknown key 'futuro'", id="extra"),
    pytest.param(
        "    present: [hablo, hablas, habla, hablamos, habláis, hablan]",
        "    present: hablo",
        "present must be a list",
        id="not-a-list",
    ),
]


@pytest.mark.parametrize(("old", "new", "reason"), BROKEN)
def test_broken_copies_fail_with_file_and_line(
    tmp_path: Path, old: str, new: str, reason: str
) -> None:
    copy, line = copy_with(tmp_path, old, new)
    with pytest.raises(TableError) as caught:
        ConjugationTable.load(copy, verify_pin=False)
    assert not isinstance(caught.value, IntegrityError)
    message = str(caught.value)
    assert message.startswith(f"{copy}:"), message
    assert caught.value.line in (line, line + 1), message  # the line of the edit or the next
    assert reason in message


def test_a_duplicate_verb_is_reported_at_its_second_entry(tmp_path: Path) -> None:
    text = DEFAULT_TABLE_PATH.read_text(encoding="utf-8")
    start = text.index("  hablar:\n")
    block = text[start : text.index("\n  ", start + 1) + 1]
    copy = tmp_path / "verbs.yaml"
    copy.write_text(text + block, encoding="utf-8")
    with pytest.raises(TableError, match=r":\d+: duplicate verb 'hablar'") as caught:
        ConjugationTable.load(copy, verify_pin=False)
    assert caught.value.line == text.count("\n") + 1


def test_a_missing_tense_is_reported_at_the_verb(tmp_path: Path) -> None:
    text = DEFAULT_TABLE_PATH.read_text(encoding="utf-8")
    start = text.index("    imperfect: [hablaba")
    copy = tmp_path / "verbs.yaml"
    copy.write_text(text[:start] + text[text.index("\n", start) + 1 :], encoding="utf-8")
    with pytest.raises(TableError, match="verb 'hablar': missing imperfect") as caught:
        ConjugationTable.load(copy, verify_pin=False)
    assert caught.value.line == text.count("\n", 0, text.index("  hablar:\n")) + 1


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "the table is empty"),
        (b"verbs: {}\n", "'verbs' has no verbs"),
        (b"verbs: []\n", "'verbs' must be a mapping"),
        (b"conjugations: {}\n", "exactly one key, 'verbs'"),
        (b"verbs:\n  hablar: [1]\n", "must be a mapping"),
        (b"verbs:\n  hablar:\n    english: x\n", "missing present, preterite"),
        (b"# ok\n\n\xff\n", "not valid UTF-8"),
    ],
)
def test_malformed_files(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "verbs.yaml"
    path.write_bytes(content)
    with pytest.raises(TableError, match=rf"^{path}:\d+: .*{reason}"):
        ConjugationTable.load(path, verify_pin=False)


def test_invalid_utf8_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "verbs.yaml"
    path.write_bytes(b"# ok\n\n\xff\n")
    with pytest.raises(TableError) as caught:
        ConjugationTable.load(path, verify_pin=False)
    assert caught.value.line == 3


# --- lookups -----------------------------------------------------------------------------------


def test_accepts_ignores_case_and_normalisation_but_not_accents(table: ConjugationTable) -> None:
    assert table.accepts("SÉ", "saber", "present", "yo")
    assert table.accepts(unicodedata.normalize("NFD", "sé"), "saber", "present", "yo")
    assert table.accepts(" Sé ", "saber", "present", "yo")
    assert not table.accepts("se", "saber", "present", "yo")
    assert not table.accepts("sabo", "saber", "present", "yo")
    assert not table.accepts("sabe", "saber", "present", "yo")


def test_unknown_slots_raise_key_error(table: ConjugationTable) -> None:
    with pytest.raises(KeyError, match="unknown verb 'hablarx'"):
        table.forms("hablarx", "present", "yo")
    with pytest.raises(KeyError, match="unknown tense"):
        table.preferred("hablar", "presente", "yo")
    with pytest.raises(KeyError, match="unknown person"):
        table.accepts("hablo", "hablar", "present", "usted")


def test_readings_finds_every_slot_of_a_shared_form(table: ConjugationTable) -> None:
    fue = set(table.readings("fue"))
    assert {Reading("ser", "preterite", "él"), Reading("ir", "preterite", "él")} <= fue
    assert set(table.readings("FUE")) == fue
    assert Reading("hablar", "present", "yo") in table.readings("hablo")
    assert set(table.readings("hable")) >= {
        Reading("hablar", "present_subjunctive", "yo"),
        Reading("hablar", "present_subjunctive", "él"),
    }
    assert Reading("haber", "present", "él") in table.readings("hay")
    assert table.readings(unicodedata.normalize("NFD", "Está")) == (
        Reading("estar", "present", "él"),
    )
    assert table.readings("sabo") == ()
    assert table.readings("") == ()


def test_readings_is_the_exact_inverse_of_forms(table: ConjugationTable) -> None:
    expected: dict[str, set[Reading]] = {}
    for lemma in table.lemmas:
        for tense in TENSES:
            for person in PERSONS:
                for form in table.forms(lemma, tense, person):
                    expected.setdefault(form, set()).add(Reading(lemma, tense, person))
    for form, readings in expected.items():
        found = table.readings(form)
        assert set(found) == readings, form
        assert len(found) == len(readings), form
