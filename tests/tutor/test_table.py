"""The shipped conjugation table: pinned, reproducible from its generator, complete and right."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from tutor.verify import DEFAULT_TABLE_PATH, PERSONS, PINNED_TABLE_SHA256, TENSES, ConjugationTable

REPO = Path(__file__).resolve().parents[2]

# Forms every Spanish grammar agrees on, written here independently of the generator.
KNOWN_FORMS = [
    ("ser", "present", "yo", "soy"),
    ("ser", "present", "vosotros", "sois"),
    ("ser", "imperfect", "nosotros", "éramos"),
    ("ser", "preterite", "él", "fue"),
    ("ser", "present_subjunctive", "ellos", "sean"),
    ("estar", "present", "tú", "estás"),
    ("estar", "preterite", "yo", "estuve"),
    ("estar", "present_subjunctive", "vosotros", "estéis"),
    ("ir", "present", "nosotros", "vamos"),
    ("ir", "preterite", "ellos", "fueron"),
    ("ir", "imperfect", "nosotros", "íbamos"),
    ("ir", "present_subjunctive", "yo", "vaya"),
    ("haber", "present", "yo", "he"),
    ("haber", "future", "él", "habrá"),
    ("haber", "present_subjunctive", "tú", "hayas"),
    ("tener", "present", "yo", "tengo"),
    ("tener", "present", "ellos", "tienen"),
    ("tener", "preterite", "nosotros", "tuvimos"),
    ("tener", "conditional", "yo", "tendría"),
    ("hacer", "preterite", "él", "hizo"),
    ("hacer", "future", "tú", "harás"),
    ("hacer", "present_subjunctive", "nosotros", "hagamos"),
    ("decir", "present", "yo", "digo"),
    ("decir", "preterite", "ellos", "dijeron"),
    ("decir", "future", "yo", "diré"),
    ("poder", "present", "tú", "puedes"),
    ("poder", "preterite", "yo", "pude"),
    ("poder", "present_subjunctive", "nosotros", "podamos"),
    ("querer", "preterite", "él", "quiso"),
    ("querer", "future", "yo", "querré"),
    ("saber", "present", "yo", "sé"),
    ("saber", "preterite", "ellos", "supieron"),
    ("saber", "present_subjunctive", "yo", "sepa"),
    ("venir", "present", "tú", "vienes"),
    ("venir", "preterite", "yo", "vine"),
    ("venir", "future", "nosotros", "vendremos"),
    ("poner", "preterite", "yo", "puse"),
    ("poner", "future", "ellos", "pondrán"),
    ("salir", "present", "yo", "salgo"),
    ("salir", "conditional", "yo", "saldría"),
    ("dar", "present", "yo", "doy"),
    ("dar", "preterite", "él", "dio"),
    ("dar", "present_subjunctive", "él", "dé"),
    ("ver", "imperfect", "yo", "veía"),
    ("ver", "preterite", "yo", "vi"),
    ("oír", "present", "yo", "oigo"),
    ("oír", "present", "ellos", "oyen"),
    ("oír", "preterite", "él", "oyó"),
    ("conducir", "present", "yo", "conduzco"),
    ("conducir", "preterite", "ellos", "condujeron"),
    ("traducir", "preterite", "yo", "traduje"),
    ("pedir", "present", "yo", "pido"),
    ("pedir", "preterite", "él", "pidió"),
    ("pedir", "present_subjunctive", "nosotros", "pidamos"),
    ("dormir", "preterite", "ellos", "durmieron"),
    ("dormir", "present_subjunctive", "nosotros", "durmamos"),
    ("jugar", "present", "yo", "juego"),
    ("jugar", "preterite", "yo", "jugué"),
    ("pensar", "present", "nosotros", "pensamos"),
    ("pensar", "present", "ellos", "piensan"),
    ("volver", "present", "yo", "vuelvo"),
    ("conocer", "present", "yo", "conozco"),
    ("caber", "present", "yo", "quepo"),
    ("caber", "preterite", "yo", "cupe"),
    ("caber", "future", "yo", "cabré"),
    ("traer", "present", "yo", "traigo"),
    ("traer", "preterite", "ellos", "trajeron"),
    ("caer", "preterite", "ellos", "cayeron"),
    ("andar", "preterite", "yo", "anduve"),
    ("valer", "future", "yo", "valdré"),
    ("elegir", "present", "yo", "elijo"),
    ("seguir", "present", "yo", "sigo"),
    ("seguir", "preterite", "él", "siguió"),
    ("sentir", "preterite", "él", "sintió"),
    ("servir", "present", "tú", "sirves"),
    ("morir", "preterite", "él", "murió"),
    ("reír", "present", "yo", "río"),
    ("reír", "preterite", "él", "rio"),
    ("reír", "present_subjunctive", "vosotros", "riais"),
    ("huir", "present", "yo", "huyo"),
    ("huir", "preterite", "yo", "hui"),
    ("construir", "present", "ellos", "construyen"),
    ("construir", "preterite", "él", "construyó"),
    ("leer", "preterite", "él", "leyó"),
    ("leer", "preterite", "tú", "leíste"),
    ("creer", "preterite", "ellos", "creyeron"),
    ("empezar", "preterite", "yo", "empecé"),
    ("empezar", "present_subjunctive", "él", "empiece"),
    ("comenzar", "present", "yo", "comienzo"),
    ("cerrar", "present", "yo", "cierro"),
    ("contar", "present", "él", "cuenta"),
    ("encontrar", "present_subjunctive", "yo", "encuentre"),
    ("entender", "present", "ellos", "entienden"),
    ("perder", "present", "tú", "pierdes"),
    ("preferir", "preterite", "ellos", "prefirieron"),
    ("repetir", "present", "yo", "repito"),
    ("vestir", "preterite", "él", "vistió"),
    ("mentir", "present", "yo", "miento"),
    ("pagar", "preterite", "yo", "pagué"),
    ("pagar", "present_subjunctive", "tú", "pagues"),
    ("buscar", "preterite", "yo", "busqué"),
    ("llegar", "present_subjunctive", "nosotros", "lleguemos"),
    ("coger", "present", "yo", "cojo"),
    ("dirigir", "present_subjunctive", "ellos", "dirijan"),
    ("enviar", "present", "yo", "envío"),
    ("enviar", "present", "nosotros", "enviamos"),
    ("continuar", "present", "ellos", "continúan"),
    ("averiguar", "preterite", "yo", "averigüé"),
    ("averiguar", "present_subjunctive", "yo", "averigüe"),
    ("guiar", "preterite", "él", "guio"),
    ("hablar", "present", "vosotros", "habláis"),
    ("comer", "imperfect", "nosotros", "comíamos"),
    ("vivir", "present", "nosotros", "vivimos"),
]

REQUIRED_LEMMAS = [
    "ser",
    "estar",
    "ir",
    "haber",
    "tener",
    "hacer",
    "decir",
    "poder",
    "querer",
    "saber",
    "venir",
    "poner",
    "salir",
    "dar",
    "ver",
    "oír",
    "conducir",
    "pedir",
    "dormir",
    "jugar",
    "pensar",
    "volver",
    "conocer",
    "caber",
    "traer",
    "caer",
    "andar",
    "valer",
    "producir",
    "traducir",
    "elegir",
    "seguir",
    "sentir",
    "servir",
    "morir",
    "reír",
    "huir",
    "construir",
    "leer",
    "creer",
    "empezar",
    "comenzar",
    "cerrar",
    "contar",
    "encontrar",
    "entender",
    "perder",
    "preferir",
    "repetir",
    "vestir",
    "mentir",
    "pagar",
    "buscar",
    "llegar",
    "coger",
    "dirigir",
    "enviar",
    "continuar",
    "averiguar",
]


def test_pin_matches_the_shipped_table(table: ConjugationTable) -> None:
    data = DEFAULT_TABLE_PATH.read_bytes()
    assert hashlib.sha256(data).hexdigest() == PINNED_TABLE_SHA256
    assert table.digest == f"sha256:{PINNED_TABLE_SHA256}"


def test_table_is_exactly_what_the_generator_writes() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "tools" / "gen_verbs.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_at_least_150_verbs_including_every_required_irregular(table: ConjugationTable) -> None:
    assert len(table.lemmas) >= 150
    assert len(set(table.lemmas)) == len(table.lemmas)
    assert [lemma for lemma in REQUIRED_LEMMAS if lemma not in table.lemmas] == []


def test_every_lemma_has_all_36_slots(table: ConjugationTable) -> None:
    for lemma in table.lemmas:
        assert table.english(lemma).startswith("to ")
        for tense in TENSES:
            for person in PERSONS:
                forms = table.forms(lemma, tense, person)
                assert forms, (lemma, tense, person)
                assert all(f and unicodedata.normalize("NFC", f) == f for f in forms)


@pytest.mark.parametrize(("lemma", "tense", "person", "form"), KNOWN_FORMS)
def test_known_forms(
    table: ConjugationTable, lemma: str, tense: str, person: str, form: str
) -> None:
    assert table.preferred(lemma, tense, person) == form


@pytest.mark.parametrize(
    ("lemma", "tense", "person", "old_spelling"),
    [
        ("reír", "preterite", "él", "rió"),
        ("reír", "present_subjunctive", "vosotros", "riáis"),
        ("guiar", "preterite", "yo", "guié"),
        ("huir", "preterite", "yo", "huí"),
        ("huir", "present", "vosotros", "huís"),
        ("criar", "present", "vosotros", "criáis"),
    ],
)
def test_pre_2010_spellings_are_not_accepted(
    table: ConjugationTable, lemma: str, tense: str, person: str, old_spelling: str
) -> None:
    assert not table.accepts(old_spelling, lemma, tense, person)
    assert table.accepts(
        old_spelling.translate(str.maketrans("áéíóú", "aeiou")), lemma, tense, person
    )


def test_alternates_are_accepted_after_the_preferred_form(table: ConjugationTable) -> None:
    assert table.forms("haber", "present", "él") == ("ha", "hay")
    assert table.preferred("errar", "present", "yo") == "yerro"
    assert table.accepts("erro", "errar", "present", "yo")
    assert table.accepts("erre", "errar", "present_subjunctive", "él")


def orthographic_syllables(word: str) -> int:
    """RAE 2010 counting: i/u next to a vowel form a diphthong unless the i/u bears the accent."""
    word = re.sub(r"(?<=[gq])u(?=[eéií])", "", word)  # the silent u of gue, gui, que, qui
    clusters = re.findall(r"[aeiouáéíóúü]+", word)
    return sum(max(1, len(re.findall(r"[aeoáéóíú]", c))) for c in clusters)


def test_only_diacritic_monosyllables_carry_an_accent(table: ConjugationTable) -> None:
    monosyllables = {
        form
        for lemma in table.lemmas
        for tense in TENSES
        for person in PERSONS
        for form in table.forms(lemma, tense, person)
        if orthographic_syllables(form) == 1
    }
    assert {"rio", "riais", "guio", "guieis", "hui", "huis", "fue", "vio"} <= monosyllables
    assert {f for f in monosyllables if re.search("[áéíóú]", f)} == {"dé", "sé"}
