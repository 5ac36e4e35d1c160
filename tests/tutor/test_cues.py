"""The rules that read what a verb must agree with and which mood it needs (pure), and the
explanations the checker gives from them."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tutor.agreement import Cue, clitic_before_verb, liked_cue, subject_cue
from tutor.checker import TableChecker
from tutor.features import boundary
from tutor.mistakes import misspelling_index
from tutor.mood import mood_cue
from tutor.tokenizer import words
from tutor.verify import ConjugationTable

Split = tuple[list[str], list[str], list[bool]]


@pytest.fixture(scope="module")
def split(table: ConjugationTable) -> Callable[..., Split]:
    """A sentence as the analysers see it: words, the mark before each, and the verb mask (the
    words the table knows, or those given, as the model would read them)."""

    def run(sentence: str, verbs: frozenset[str] | None = None) -> Split:
        spans = words(sentence)
        ends = [0, *(s.end for s in spans)]
        marks = [boundary(sentence[end : s.start]) for end, s in zip(ends, spans, strict=False)]
        texts = [s.text for s in spans]
        mask = [bool(table.readings(w)) if verbs is None else w in verbs for w in texts]
        return texts, marks, mask

    return run


@pytest.mark.parametrize(
    ("sentence", "verb", "words_", "allowed"),
    [
        ("Pedro y tú sois amigos", "sois", "Pedro y tú", ("vosotros", "ellos")),
        ("Tú y tu hermana vivís cerca", "vivís", "Tú y tu hermana", ("vosotros", "ellos")),
        ("Ni Raúl ni tú dijisteis nada", "dijisteis", "Ni Raúl ni tú", ("vosotros", "ellos")),
        ("Mi madre y yo cenamos", "cenamos", "Mi madre y yo", ("nosotros",)),
        ("Usted y su esposa están aquí", "están", "Usted y su esposa", ("ellos",)),
        ("Quiero que Ana y él vengan", "vengan", "Ana y él", ("ellos",)),
        ("Él cenó y tú pusiste la mesa", "pusiste", "tú", ("tú",)),
        ("Cuando llegó, Juan y yo cenamos", "cenamos", "Juan y yo", ("nosotros",)),
        # A "y" with nothing before it joins clauses, not subjects.
        ("¿Y tú vienes mañana?", "vienes", "tú", ("tú",)),
        ("Juan come pizza, y tú comes pasta", "comes", "tú", ("tú",)),
    ],
)
def test_a_coordinated_subject_with_a_pronoun_settles_the_person(
    split: Callable[..., Split], sentence: str, verb: str, words_: str, allowed: tuple[str, ...]
) -> None:
    texts, marks, verbs = split(sentence, frozenset({"cenó", "llegó", "come", verb}))
    assert subject_cue(texts, marks, verbs, texts.index(verb)) == Cue(words_, allowed)


@pytest.mark.parametrize(
    ("sentence", "word"),
    [
        ("Juan y María viven aquí", "viven"),  # no pronoun: the model reads it
        ("Anoche mi madre y yo preparamos la cena", "cena"),  # a noun after the verb
        ("Hablo con Pedro y tú", "tú"),
        ("Entre tú y yo sabemos la verdad", "sabemos"),  # "entre" is no verb here
    ],
)
def test_no_subject_is_read_where_there_is_none(
    split: Callable[..., Split], sentence: str, word: str
) -> None:
    texts, marks, verbs = split(sentence, frozenset({"viven", "preparamos", "Hablo", "sabemos"}))
    assert subject_cue(texts, marks, verbs, texts.index(word)) is None


@pytest.mark.parametrize(
    ("sentence", "verb", "liked", "person"),
    [
        ("Me gusta los libros", "gusta", "los libros", "ellos"),
        ("A mi padre le duelen mucho las rodillas", "duelen", "las rodillas", "ellos"),
        ("Nos encanta viajar y leer", "encanta", "viajar", "él"),
        ("Les gustan el café y el té", "gustan", "el café", "ellos"),
        ("Me falta un euro", "falta", "un euro", "él"),
        ("Los idiomas me interesa", "interesa", "Los idiomas", "ellos"),
        ("¿Te molesta que abra la ventana?", "molesta", "que abra la", "él"),
        ("Me gusta la música y la escucho", "gusta", "la música", "él"),  # "la" is an object
        ("Me encanta Madrid y Sevilla", "encanta", "Madrid", "ellos"),
        ("Me gusto mucho la música", "gusto", "la música", "él"),  # agreeing with who likes
    ],
)
def test_a_verb_like_gustar_agrees_with_what_is_liked(
    split: Callable[..., Split],
    table: ConjugationTable,
    sentence: str,
    verb: str,
    liked: str,
    person: str,
) -> None:
    texts, marks, verbs = split(sentence)
    found = table.readings(verb) or misspelling_index(table).get(verb, ())
    cue = liked_cue(texts, marks, verbs, texts.index(verb), found)
    assert cue == Cue(liked, (person,), "liked")


@pytest.mark.parametrize(
    ("sentence", "verb"),
    [
        ("Yo gusto de la música", "gusto"),  # no pronoun of who likes
        ("A mi padre le duele", "duele"),  # who is hurt, and nothing said of what
        ("Te lo digo para que no te preocupas", "preocupas"),  # reflexive: its own subject
        ("Me preocupo por el examen", "preocupo"),
        ("¿Te molesto un momento?", "molesto"),  # I bother you: a subject of its own
        ("Tú me gustas", "gustas"),  # the same: its subject "tú" (subject_cue reads it)
    ],
)
def test_no_liked_thing_is_read_where_there_is_none(
    split: Callable[..., Split],
    table: ConjugationTable,
    sentence: str,
    verb: str,
) -> None:
    texts, marks, verbs = split(sentence)
    found = table.readings(verb)
    assert liked_cue(texts, marks, verbs, texts.index(verb), found) is None


@pytest.mark.parametrize(
    ("sentence", "verb", "trigger", "context"),
    [
        ("Te llamo para que vienes", "vienes", "para que", ""),
        ("Ojalá mañana hace sol", "hace", "Ojalá", ""),
        ("Es muy importante que tú estudias", "estudias", "Es muy importante que", ""),
        ("Quiero que mi hermana y yo volvemos", "volvemos", "Quiero que", ""),
        ("Le pido a mi hermano que me ayuda", "ayuda", "pido a mi hermano que", ""),
        ("Cuando llegas a casa, te llamaré", "llegas", "Cuando", "llamaré"),
        ("Te llamaré en cuanto sales", "sales", "en cuanto", "llamaré"),
        ("Hasta que terminas, vamos a esperar", "terminas", "Hasta que", "vamos a esperar"),
        # The main verb nearest the conjunction decides, not the first of the sentence.
        ("Ya te dije que te llamaré cuando llegas", "llegas", "cuando", "llamaré"),
        ("Insisto en que vienes", "vienes", "Insisto en que", ""),
        ("Ojala tienes razón", "tienes", "Ojala", ""),
    ],
)
def test_a_conjunction_or_a_wish_asks_for_the_subjunctive(
    split: Callable[..., Split],
    table: ConjugationTable,
    sentence: str,
    verb: str,
    trigger: str,
    context: str,
) -> None:
    texts, marks, verbs = split(sentence)
    cue = mood_cue(texts, marks, verbs, table.readings, texts.index(verb))
    assert cue == Cue(trigger, ("present_subjunctive",), "mood", context)


@pytest.mark.parametrize(
    ("sentence", "verb"),
    [
        ("Creo que tienes razón", "tienes"),  # a statement
        ("Es verdad que tienes razón", "tienes"),
        ("Quería que vienes", "vienes"),  # a past wish takes the imperfect subjunctive
        ("Quiero que vengas y traes pan", "traes"),  # not the first verb after "que"
        ("Es importante lo que dices", "dices"),
        # A present main clause: a habit, or the present speaking of the future; the model reads.
        ("Cuando llego a casa, ceno", "llego"),
        ("Cuando llego a casa, voy a la cocina", "llego"),  # "voy a" a place is no future
        # After a past the imperfect subjunctive ("llegara"), which the table does not hold.
        ("Salí antes de que él llegó", "llegó"),
    ],
)
def test_no_subjunctive_is_asked_where_nothing_asks_for_it(
    split: Callable[..., Split], table: ConjugationTable, sentence: str, verb: str
) -> None:
    texts, marks, verbs = split(sentence)
    assert mood_cue(texts, marks, verbs, table.readings, texts.index(verb)) is None


@pytest.mark.parametrize(
    ("sentence", "verb", "main", "allowed"),
    [
        ("Cuando era niño, vivía en Lima", "era", "vivía", ("preterite", "imperfect")),
        ("Estaba en casa cuando llegaste", "llegaste", "Estaba", ("preterite", "imperfect")),
    ],
)
def test_a_time_clause_takes_the_indicative_when_the_main_clause_tells_of_the_past(
    split: Callable[..., Split],
    table: ConjugationTable,
    sentence: str,
    verb: str,
    main: str,
    allowed: tuple[str, ...],
) -> None:
    texts, marks, verbs = split(sentence)
    cue = mood_cue(texts, marks, verbs, table.readings, texts.index(verb))
    assert cue == Cue("Cuando" if texts[0] == "Cuando" else "cuando", allowed, "mood", main)


def test_a_pronoun_before_a_verb_is_never_read_as_a_verb(split: Callable[..., Split]) -> None:
    texts, marks, verbs = split("Ellos se despidieron. Yo se la respuesta")
    assert clitic_before_verb(texts, marks, verbs, 1)
    assert not clitic_before_verb(texts, marks, verbs, texts.index("se", 2))


@pytest.mark.parametrize(
    ("sentence", "original", "suggestion", "explanation"),
    [
        (
            "Pedro y tú es amigos.",
            "es",
            "sois",
            "'es' must agree with its subject 'Pedro y tú', which takes the vosotros form "
            "(or ustedes, with the ellos form): 'sois'",
        ),
        (
            "A mis abuelos les gusta los perros.",
            "gusta",
            "gustan",
            "'gusta' must agree with what is liked, 'los perros' (plural), not with the person "
            "who likes it: 'gustan'",
        ),
        (
            "Te llamaré cuando llegas.",
            "llegas",
            "llegues",
            "After 'cuando' the verb takes the subjunctive when the main clause is about the "
            "future ('llamaré'): tú llegues, not 'llegas'",
        ),
        (
            "Cuando vuelva a casa, cené.",
            "vuelva",
            "volví",
            "After 'Cuando' the verb takes the indicative when the main clause tells of the past "
            "('cené'): yo volví, not 'vuelva'",
        ),
        (
            "Es necesario que estudias más.",
            "estudias",
            "estudies",
            "After 'Es necesario que' the verb takes the subjunctive: tú estudies, not 'estudias'",
        ),
        (
            "Ayer yo me diviertí mucho.",
            "diviertí",
            "divertí",
            "'diviertí' carries the stem change of the present; the preterite of 'divertir' for "
            "yo is 'divertí'",
        ),
    ],
)
def test_the_explanation_names_what_the_verb_agrees_with_or_what_asks_the_mood(
    table_only: TableChecker, sentence: str, original: str, suggestion: str, explanation: str
) -> None:
    result = table_only.check(sentence)
    assert result.verdict == "incorrect"
    [correction] = result.corrections
    assert (correction.original, correction.suggestion) == (original, suggestion)
    assert correction.explanation.startswith(explanation)


# ---------------------------------------------------------------------------------------------
# Attacks: every verb of the table, put where a rule settles the mood or the person, with the
# form a learner gets wrong; neither checker may approve one (the model's own guess aside).

PRONOUNS = {"yo": "yo", "tú": "tú", "él": "ella", "nosotros": "nosotros", "vosotros": "vosotros"}


def _wrong_after_a_trigger(table: ConjugationTable) -> list[str]:
    """ "Es importante que tú vienes": the present indicative where the subjunctive must be."""
    out = []
    for lemma in table.lemmas[::7]:
        for person, pronoun in PRONOUNS.items():
            form = table.preferred(lemma, "present", person)
            if not table.accepts(form, lemma, "present_subjunctive", person):
                out.append(f"Es importante que {pronoun} {form} hoy.")
    return out


def _wrong_with_a_compound_subject(table: ConjugationTable) -> list[str]:
    """ "Pedro y tú habla": the verb agrees with the nearest part of the subject only."""
    out = []
    for lemma in table.lemmas[::7]:
        for tense in ("present", "preterite", "future"):
            form = table.preferred(lemma, tense, "él")
            plural = {table.preferred(lemma, tense, p) for p in ("vosotros", "ellos")}
            if form not in plural:
                out.append(f"Pedro y tú {form} hoy.")
    return out


@pytest.mark.parametrize("build", [_wrong_after_a_trigger, _wrong_with_a_compound_subject])
def test_no_checker_approves_a_form_the_rules_rule_out(
    table: ConjugationTable,
    table_only: TableChecker,
    model_checker: TableChecker,
    build: Callable[..., list[str]],
) -> None:
    sentences = build(table)
    assert len(sentences) > 80
    for checker in (table_only, model_checker):
        approved = [s for s in sentences if checker.check(s).verdict != "incorrect"]
        assert approved == [], checker.name


def test_gustar_before_a_plural_is_never_approved_in_the_singular(
    table: ConjugationTable, table_only: TableChecker, model_checker: TableChecker
) -> None:
    sentences = [
        f"A mi hermana le {table.preferred(lemma, tense, 'él')} mucho los {noun}."
        for lemma in ("gustar", "encantar", "interesar", "doler", "faltar", "molestar")
        for tense in ("present", "preterite", "imperfect", "conditional")
        for noun in ("libros", "perros", "pies")
    ]
    for checker in (table_only, model_checker):
        answers = [checker.check(s) for s in sentences]
        assert all(a.verdict == "incorrect" for a in answers), checker.name
        assert all("(plural)" in a.corrections[0].explanation for a in answers), checker.name
