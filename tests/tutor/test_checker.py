"""The checker: the table has the last word, whatever the analyser (model or rules) believes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tutor.agreement import Cue, subject_cue
from tutor.checker import CheckResult, TableChecker, judge, load_checker
from tutor.features import boundary
from tutor.inference import ModelFileError
from tutor.tokenizer import words
from tutor.train import TrainConfig, save, train
from tutor.verify import DEFAULT_TABLE_PATH, PERSONS, TENSES, ConjugationTable, Reading


@dataclass(frozen=True)
class FixedGuess:
    best: Reading
    confidence: float
    approval_mass: float = 0.5
    because: tuple[Cue, ...] = ()

    def probability(self, reading: Reading) -> float:
        return self.confidence if reading == self.best else 0.0


class EveryWordIsAVerb:
    """An analyser that is sure every word means one fixed reading (as a fooled model would)."""

    def __init__(self, meant: Reading) -> None:
        self.meant = meant

    def analyse(self, words: Sequence[str], boundaries: Sequence[str]) -> list[FixedGuess | None]:
        return [FixedGuess(self.meant, 1.0) for _ in words]


def pairs(result: CheckResult) -> list[tuple[str, str]]:
    return [(c.original, c.suggestion) for c in result.corrections]


readings = st.builds(
    Reading,
    lemma=st.sampled_from(["saber", "tener", "hablar", "ir", "pedir"]),
    tense=st.sampled_from(TENSES),
    person=st.sampled_from(PERSONS),
)


@settings(max_examples=200, deadline=None)
@given(meant=readings, word=st.text(min_size=1, max_size=12), confidence=st.floats(0, 1))
def test_judge_never_invents_or_approves_outside_the_table(
    table: ConjugationTable, meant: Reading, word: str, confidence: float
) -> None:
    correction = judge(table, word, FixedGuess(meant, confidence))
    if correction is None:
        assert table.readings(word), f"{word!r} approved but the table does not know it"
    else:
        assert correction.suggestion.casefold() == table.preferred(*_slot(meant)).casefold()
        assert not table.accepts(word, *_slot(meant))


@settings(max_examples=200, deadline=None)
@given(meant=readings)
def test_a_form_the_table_accepts_for_the_meant_slot_is_never_flagged(
    table: ConjugationTable, meant: Reading
) -> None:
    for form in table.forms(*_slot(meant)):
        assert judge(table, form, FixedGuess(meant, 0.0)) is None


def _slot(reading: Reading) -> tuple[str, str, str]:
    return reading.lemma, reading.tense, reading.person


def test_a_fooled_analyser_still_cannot_approve_a_wrong_form(table: ConjugationTable) -> None:
    checker = TableChecker(
        table, EveryWordIsAVerb(Reading("saber", "present", "yo")), name="t", model_version="none"
    )
    result = checker.check("Yo sabo: the table says 'sabo' is correct.")
    assert result.verdict == "incorrect"
    assert {c.suggestion.casefold() for c in result.corrections} == {"sé"}
    assert "sabo" in [c.original for c in result.corrections]
    assert "sé" not in [c.original for c in checker.check("Sé").corrections]


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Yo sabo la respuesta.", [("sabo", "sé")]),
        ("Ellos tiene dos perros.", [("tiene", "tienen")]),
        ("Mi hermano y yo vive en Madrid.", [("vive", "vivimos")]),
        ("Ayer yo bebo café con mis amigos.", [("bebo", "bebí")]),
        ("Quiero que tú vienes a la fiesta.", [("vienes", "vengas")]),
        ("Nosotros piensamos que es verdad.", [("piensamos", "pensamos")]),
        ("Anoche llegé tarde.", [("llegé", "llegué")]),
        ("Ayer ellos decieron la verdad.", [("decieron", "dijeron")]),  # not "dieron"
        ("Ella me dió un libro.", [("dió", "dio")]),
    ],
)
def test_model_checker_corrects_typical_learner_errors(
    model_checker: TableChecker, sentence: str, expected: list[tuple[str, str]]
) -> None:
    result = model_checker.check(sentence)
    assert result.verdict == "incorrect"
    assert pairs(result) == expected
    for correction in result.corrections:
        assert correction.explanation.endswith(".")
        assert correction.lemma in correction.explanation


@pytest.mark.parametrize(
    ("sentence", "expected", "named"),
    [
        ("Pedro y tú es muy amigo mío.", [("es", "sois")], "Pedro y tú"),
        ("Mi madre y yo vive en Madrid.", [("vive", "vivimos")], "Mi madre y yo"),
        ("Ayer me diviertí mucho en la fiesta.", [("diviertí", "divertí")], "stem change"),
        ("Mis primos se divertieron en la playa.", [("divertieron", "divirtieron")], "divertir"),
        ("Cuando llegas a casa, te llamaré.", [("llegas", "llegues")], "Cuando"),
        ("Te lo explico para que lo entiendes.", [("entiendes", "entiendas")], "para que"),
        ("Es importante que estudias cada día.", [("estudias", "estudies")], "importante"),
        ("Me gusta mucho los libros de historia.", [("gusta", "gustan")], "los libros"),
        ("Nos encanta las películas de miedo.", [("encanta", "encantan")], "las películas"),
    ],
)
def test_the_four_families_of_harder_spanish_are_corrected_and_explained(
    model_checker: TableChecker, sentence: str, expected: list[tuple[str, str]], named: str
) -> None:
    """Compound subjects, reflexive stem changes, mood after a conjunction, gustar-type verbs:
    the explanation names the word the verb agrees with or the words that ask for its mood."""
    result = model_checker.check(sentence)
    assert result.verdict == "incorrect"
    assert pairs(result) == expected
    assert named in result.corrections[0].explanation


@pytest.mark.parametrize(
    "sentence",
    [
        "Pedro y tú sois amigos desde niños.",
        "Tú y tus primos vinieron tarde.",  # ustedes, the Latin American plural
        "Ellos se despidieron en la estación.",
        "Los niños se durmieron pronto.",
        "Cuando llego a casa, siempre ceno.",
        "Cuando era niño, vivía en Lima.",
        "Me faltan dos euros para el billete.",
        "A mis padres les encanta viajar.",
        "Tú me gustas mucho.",
    ],
)
def test_right_sentences_of_the_four_families_are_approved(
    model_checker: TableChecker, sentence: str
) -> None:
    assert model_checker.check(sentence) == CheckResult("correct", ())


@pytest.mark.parametrize(
    "sentence",
    [
        "Yo hablo español.",
        "Ayer fuimos al cine.",
        "Mañana iré a la playa.",
        "Ojalá vengas pronto.",
        "Te doy mi dirección.",
    ],
)
def test_model_checker_approves_correct_sentences(
    model_checker: TableChecker, sentence: str
) -> None:
    assert model_checker.check(sentence) == CheckResult("correct", ())


def test_no_verb(model_checker: TableChecker, table_only: TableChecker) -> None:
    for checker in (model_checker, table_only):
        assert checker.check("¡Buenos días, señora!").verdict == "no_verb_found"
        assert checker.check("").verdict == "no_verb_found"


def test_invisible_and_look_alike_letters_are_read_as_seen(model_checker: TableChecker) -> None:
    assert pairs(model_checker.check("Yo sa\u200bbo la respuesta.")) == [("sabo", "sé")]
    assert model_checker.check("Yo h\u0430blo espa\u00f1ol.").verdict == "correct"


def test_table_only_uses_reverse_lookup_and_subject_pronouns(table_only: TableChecker) -> None:
    assert pairs(table_only.check("Yo sabo la respuesta.")) == [("sabo", "sé")]
    assert pairs(table_only.check("Tú sabe nadar.")) == [("sabe", "sabes")]
    assert table_only.check("Nosotros hablamos mucho.").verdict == "correct"
    assert table_only.name == "table-only"
    assert table_only.model_version == "none"


def test_to_json_has_the_documented_shape(model_checker: TableChecker) -> None:
    body = model_checker.check("Yo sabo la respuesta.").to_json()
    assert body["verdict"] == "incorrect"
    assert body["corrections"] == [
        {
            "original": "sabo",
            "suggestion": "sé",
            "lemma": "saber",
            "tense": "present",
            "person": "yo",
            "explanation": body["corrections"][0]["explanation"],  # type: ignore[index]
        }
    ]


def test_a_model_trained_on_another_table_is_refused(tmp_path: Path) -> None:
    other_table = tmp_path / "verbs.yaml"
    source = ConjugationTable.load()
    # The same verbs with a changed header comment: another digest, so another table.
    other_table.write_bytes(b"# edited\n" + DEFAULT_TABLE_PATH.read_bytes())
    model, metadata = train(source, TrainConfig(sentences=8, epochs=1))
    save(model, metadata, tmp_path / "m.safetensors")
    with pytest.raises(ModelFileError, match="trained on table"):
        load_checker("model", model_path=tmp_path / "m.safetensors", table_path=other_table)


def test_unknown_checker_kind() -> None:
    with pytest.raises(ValueError, match="unknown checker kind"):
        load_checker("oracle")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("sentence", "verb", "person"),
    [
        ("Yo no me levanto", "levanto", "yo"),
        ("Usted estás aquí", "estás", "él"),
        ("Mi hermana y yo va", "va", "nosotros"),
        ("Ni él ni yo sabe", "sabe", "nosotros"),
        ("Quiero que tú vengas", "vengas", "tú"),
        ("Yo que tú compraría", "compraría", None),
        ("Hablo con él mañana", "mañana", None),
        ("Tú, come", "come", None),
        ("Mi hermano habla", "habla", None),
        ("Tú nunca me escucha", "escucha", "tú"),
        ("Él cenó y yo puse la mesa", "puse", "yo"),
        ("Él hace la cena y yo pongo la mesa", "pongo", "yo"),
        ("Es verdad que Isabel y yo cenamos", "cenamos", "nosotros"),
    ],
)
def test_subject_pronoun_just_before_the_verb(sentence: str, verb: str, person: str | None) -> None:
    """The verb mask is the table's lookup: a word the table knows reads as a verb."""
    table = ConjugationTable.load()
    text = sentence
    spans = words(text)
    ends = [0, *(s.end for s in spans)]
    before = [boundary(text[end : s.start]) for end, s in zip(ends, spans, strict=False)]
    index = [s.text for s in spans].index(verb)
    texts = [s.text for s in spans]
    verbs = [bool(table.readings(w)) for w in texts]
    cue = subject_cue(texts, before, verbs, index)
    assert (cue.allowed[0] if cue else None) == person
