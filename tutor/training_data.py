"""Generate labelled learner sentences from the conjugation table alone (fixed seed, no hub data).

Every word carries the reading the learner meant when it is a finite verb the table covers, and
None otherwise (nouns, function words, infinitives, participles, English text). About a third of
the verbs are replaced by a typical learner error: a regularised irregular or levelled stem, the
wrong person for the subject, the wrong tense for a time cue, the indicative after a subjunctive
trigger, a dropped or misplaced accent, a typo, or a bare infinitive.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from tutor import lexicon
from tutor.features import CLAUSE, SENTENCE, model_token
from tutor.mistakes import invented_forms
from tutor.regular import infinitive, regular_paradigm, strip_accents
from tutor.tokenizer import words
from tutor.verify import PERSONS, TENSES, ConjugationTable, Reading

MAIN_CLAUSE_TENSES = ("present", "preterite", "imperfect", "future", "conditional")
_MAIN_TENSE_WEIGHTS = (0.36, 0.2, 0.16, 0.14, 0.14)
ERROR_RATE = 0.4
_SLOT = re.compile(r"\{([^}:]+)(?::([^}:]+))?(?::([^}:]+))?\}")
_VOWELS = "aeiou"
_ACCENTED = dict(zip("aeiou", "áéíóú", strict=True))
_LETTERS = "abcdefghijlmnopqrstuvyzñ"


@dataclass(frozen=True)
class Example:
    """One sentence as words, with the intended reading of each checkable verb and error marks."""

    words: tuple[str, ...]
    readings: tuple[Reading | None, ...]
    wrong: tuple[bool, ...]
    marks: tuple[str, ...]  # the punctuation before each word: "", CLAUSE or SENTENCE

    @property
    def sentence(self) -> str:
        """The words as a learner would type them, with the punctuation the marks stand for."""
        separators = {"": " ", CLAUSE: ", ", SENTENCE: ". "}
        return "".join(
            (separators[mark] if i else "") + word
            for i, (word, mark) in enumerate(zip(self.words, self.marks, strict=True))
        )

    @property
    def tokens(self) -> tuple[str, ...]:
        """What the model reads for each word (features.model_token)."""
        return tuple(model_token(w, m) for w, m in zip(self.words, self.marks, strict=True))


@dataclass
class _Tok:
    text: str
    reading: Reading | None = None
    wrong: bool = False
    mark: str = ""


@dataclass(frozen=True)
class _Context:
    """What the learner's sentence fixes for a verb: the subject's person, a tense cue, a mood."""

    person: str | None
    cue: lexicon.TimeCue | None
    mood: str | None = None  # "subjunctive", "indicative" (after "creo que"), "either", None


_FUTURE = next(c for c in lexicon.TIME_CUES if c.intended == "future")
_NOW = next(c for c in lexicon.TIME_CUES if c.intended == "present")
_CONDITIONAL = lexicon.TimeCue((), "conditional", frozenset({"conditional"}))
_REPORTED = lexicon.TimeCue((), "conditional", frozenset({"conditional", "imperfect", "preterite"}))
_PAST = lexicon.TimeCue((), "preterite", frozenset({"preterite", "imperfect"}))
# After "cuando vengas": a future main clause, so only the subjunctive fits the time clause.
_FUTURE_ONLY = lexicon.TimeCue((), "future", frozenset({"future"}))
_HABIT = lexicon.TimeCue((), "present", frozenset({"present"}))


class Generator:
    """Builds examples from one table and one seed; the same inputs give the same sentences."""

    def __init__(self, table: ConjugationTable, seed: int) -> None:
        self.table = table
        self.rng = random.Random(seed)  # noqa: S311 (reproducible data, not secrets)
        self.lemmas = table.lemmas
        self.irregular = tuple(lemma for lemma in table.lemmas if self._is_irregular(lemma))
        # Regular participles and gerunds come only from verbs the table shows fully regular;
        # the irregular participles are a short list in the lexicon.
        self.regular = tuple(lemma for lemma in table.lemmas if lemma not in self.irregular)
        self.gustar = tuple(lemma for lemma in lexicon.GUSTAR_LIKE if lemma in table.lemmas)
        # Slots whose form is also an everyday non-verb ("como", "trabajo", "cena"): seen as
        # verbs often enough that context, not the word, decides.
        non_verbs = lexicon.non_verb_words()
        self.collisions = tuple(
            Reading(lemma, tense, person)
            for lemma in table.lemmas
            for tense in MAIN_CLAUSE_TENSES
            for person in PERSONS
            if table.preferred(lemma, tense, person).casefold() in non_verbs
            or strip_accents(table.preferred(lemma, tense, person)) in non_verbs
        )

    def _is_irregular(self, lemma: str) -> bool:
        paradigm = regular_paradigm(lemma)
        return not paradigm or any(
            not self.table.accepts(form, lemma, tense, person)
            for (tense, person), form in paradigm.items()
        )

    def _chance(self, p: float) -> bool:
        return self.rng.random() < p

    # ---- words ---------------------------------------------------------------------------

    def _lemma(self) -> str:
        pool = self.irregular if self.irregular and self._chance(0.5) else self.lemmas
        return self.rng.choice(pool)

    def _form(self, lemma: str, tense: str, person: str) -> str:
        forms = self.table.forms(lemma, tense, person)
        return forms[0] if len(forms) == 1 or self._chance(0.7) else self.rng.choice(forms)

    def _typo(self, form: str) -> str:
        i = self.rng.randrange(len(form))
        edit = self.rng.randrange(4)
        if edit == 0 and len(form) > 3:
            return form[:i] + form[i + 1 :]
        if edit == 1:
            return form[:i] + form[i] + form[i:]
        if edit == 2 and i + 1 < len(form):
            return form[:i] + form[i + 1] + form[i] + form[i + 2 :]
        return form[:i] + self.rng.choice(_LETTERS) + form[i + 1 :]

    def _misplaced_accent(self, form: str) -> str:
        plain = strip_accents(form)
        vowels = [i for i, ch in enumerate(plain) if ch in _VOWELS]
        if not vowels:
            return plain
        i = self.rng.choice(vowels)
        return plain[:i] + _ACCENTED[plain[i]] + plain[i + 1 :]

    def _infinitive_word(self) -> str:
        """A bare infinitive, sometimes with a clitic on it ("ayudarme")."""
        word = infinitive(self.rng.choice(self.lemmas))
        return word + self.rng.choice(lexicon.CLITICS) if self._chance(0.3) else word

    def _wrong_forms(self, lemma: str, tense: str, person: str, ctx: _Context) -> list[str]:
        """Candidate error surfaces for the slot, weighted by repetition."""
        preferred = self.table.preferred
        forms: list[str] = list(invented_forms(self.table, lemma, tense, person)) * 3
        if ctx.person is not None:
            forms += [preferred(lemma, tense, other) for other in PERSONS if other != person]
        if ctx.cue is not None:
            forms += [
                preferred(lemma, other, person)
                for other in MAIN_CLAUSE_TENSES
                if other not in ctx.cue.allowed
            ] * 6
        if ctx.mood == "subjunctive":
            forms += [preferred(lemma, "present", person)] * 8
            forms += [preferred(lemma, "future", person)] * 3
        elif ctx.mood == "indicative" and tense == "present":
            forms += [preferred(lemma, "present_subjunctive", person)] * 8
        elif tense != "present_subjunctive" and ctx.mood is None and self._chance(0.15):
            forms.append(preferred(lemma, "present_subjunctive", person))
        correct = preferred(lemma, tense, person)
        forms += [strip_accents(correct), self._misplaced_accent(correct), self._typo(correct)]
        if ctx.person is not None and tense == "present" and self._chance(0.1):
            forms.append(infinitive(lemma))
        return [f for f in forms if f and not self.table.accepts(f, lemma, tense, person)]

    def _verb(self, lemma: str, tense: str | None, person: str, ctx: _Context) -> _Tok:
        make_error = self._chance(ERROR_RATE)
        if tense is None:
            if make_error and ctx.cue:
                # A learner who got the tense wrong meant the tense the cue asks for first.
                tense = ctx.cue.intended
            elif make_error and ctx.mood == "indicative":
                # "Es obvio que ella quiera": the subjunctive stands for the present indicative.
                tense = "present"
            else:
                tense = self._tense(ctx)
        wrong = self._wrong_forms(lemma, tense, person, ctx) if make_error else []
        if wrong and ctx.cue is not None and self._chance(0.5):
            # The commonest learner error beside a time cue: a real form in the wrong tense.
            wrong = [
                form
                for other in MAIN_CLAUSE_TENSES
                if other not in ctx.cue.allowed
                and not self.table.accepts(
                    form := self.table.preferred(lemma, other, person), lemma, tense, person
                )
            ] or wrong
        if wrong:
            return _Tok(self.rng.choice(wrong), Reading(lemma, tense, person), True)
        return _Tok(self._form(lemma, tense, person), Reading(lemma, tense, person))

    def _tense(self, ctx: _Context) -> str:
        if ctx.mood == "subjunctive":
            return "present_subjunctive"
        if ctx.mood == "either":
            return self.rng.choice(("present", "present_subjunctive"))
        if ctx.mood == "indicative" and ctx.cue is None and self._chance(0.6):
            return "present"
        if ctx.cue is None:
            return self.rng.choices(MAIN_CLAUSE_TENSES, _MAIN_TENSE_WEIGHTS)[0]
        if self._chance(0.6):
            return ctx.cue.intended
        return self.rng.choice(sorted(ctx.cue.allowed))

    def _phrase(self, text: str) -> list[_Tok]:
        return [_Tok(w) for w in text.split()]

    def _template(self, template: str, person: str, tense: str) -> list[_Tok] | None:
        """Conjugate the "{lemma:tense:person}" slots of a lexicon phrase; None if unavailable."""
        out: list[_Tok] = []
        for piece in template.split():
            match = _SLOT.fullmatch(piece)
            if match is None:
                out.append(_Tok(piece))
                continue
            lemma, slot_tense, slot_person = match.groups()
            if lemma not in self.table.lemmas:
                return None
            reading = Reading(lemma, slot_tense or tense, slot_person or person)
            out.append(_Tok(self._form(*_fields(reading)), reading))
        return out

    # ---- subjects and cues -----------------------------------------------------------------

    def _noun_phrase(self) -> tuple[str, str]:
        roll = self.rng.random()
        if roll < 0.25:
            phrase, plural = self._vocabulary_phrase()
            return phrase, "ellos" if plural else "él"
        if roll < 0.55:
            return self.rng.choice(lexicon.SINGULAR_NOUN_PHRASES), "él"
        if roll < 0.8:
            return self.rng.choice(lexicon.PLURAL_NOUN_PHRASES), "ellos"
        return self.rng.choice(lexicon.NAMES) if self._chance(0.7) else self._name(), "él"

    def _subject(self) -> tuple[list[_Tok], str]:
        roll = self.rng.random()
        if roll < 0.42:
            pronoun = self.rng.choice(sorted(lexicon.PRONOUN_PERSONS))
            return self._phrase(pronoun), lexicon.PRONOUN_PERSONS[pronoun]
        if roll < 0.74:
            phrase, person = self._noun_phrase()
            return self._phrase(phrase), person
        first, _ = self._noun_phrase()
        if roll < 0.8:
            return self._phrase(f"{first} y yo"), "nosotros"
        if roll < 0.82:
            return self._phrase(f"ni {first} ni yo"), "nosotros"
        if roll < 0.84:
            return self._phrase(self.rng.choice(("tú y yo", "usted y yo", "él y yo"))), "nosotros"
        second, _ = self._noun_phrase()
        if roll < 0.86:
            return self._phrase(f"ni {first} ni {second}"), "ellos"
        if roll < 0.88:
            return self._phrase(f"usted y {second}"), "ellos"
        if roll < 0.92:
            # "Pedro y tú" is vosotros (ustedes, the third person, in Latin American usage).
            phrase = f"{first} y tú" if self._chance(0.7) else f"tú y {first}"
            return self._phrase(phrase), "ellos" if self._chance(0.2) else "vosotros"
        return self._phrase(f"{first} y {second}"), "ellos"

    def _maybe_subject(self, p: float = 0.7) -> tuple[list[_Tok], str | None]:
        if self._chance(p):
            return self._subject()
        return [], None

    def _maybe_cue(self, p: float = 0.7) -> lexicon.TimeCue | None:
        if not self._chance(p):
            return None
        return self.rng.choices(lexicon.TIME_CUES, [c.weight for c in lexicon.TIME_CUES])[0]

    def _with_cue(self, body: list[_Tok], cue: lexicon.TimeCue | None) -> list[_Tok]:
        if cue is None or not cue.phrases:
            return body
        person = self.rng.choice(("yo", "él", "nosotros"))
        phrase = self._template(self.rng.choice(cue.phrases), person, cue.intended)
        if phrase is None:
            return body
        if phrase[-1].text == "que":
            return [*phrase, *body]  # "hace dos años que estudio": it opens the clause
        if self._chance(0.5):
            return [*phrase, *self._punctuate(body, CLAUSE, 0.5)]
        return [*body, *self._punctuate(phrase, CLAUSE, 0.3)]

    # ---- clauses ---------------------------------------------------------------------------

    def _pseudo_word(self, nouns: Sequence[str]) -> str:
        """Two nouns glued ("experiencia"-like words the lists lack), never a table form."""
        for _ in range(5):
            a, b = self.rng.choice(nouns), self.rng.choice(nouns)
            word = (
                a[: self.rng.randint(2, max(2, len(a) - 1))] + b[self.rng.randint(1, len(b) - 1) :]
            )
            if not self.table.readings(word):
                return word
        return self.rng.choice(nouns)

    def _name(self) -> str:
        syllables = self.rng.choices(lexicon.NAME_SYLLABLES, k=self.rng.randint(2, 4))
        return "".join(syllables).capitalize()

    def _vocabulary_phrase(self) -> tuple[str, bool]:
        """A determiner, a noun and maybe an adjective that agree; and whether it is plural."""
        feminine = self._chance(0.45)
        plural = self._chance(0.35)
        nouns = lexicon.FEMININE_NOUNS if feminine else lexicon.MASCULINE_NOUNS
        noun = self._pseudo_word(nouns) if self._chance(0.25) else self.rng.choice(nouns)
        words = [
            self.rng.choice(_DETERMINERS[(feminine, plural)]),
            _plural(noun) if plural else noun,
        ]
        if self._chance(0.3):
            adjective = self.rng.choice(lexicon.ADJECTIVES)
            adjective = _feminine(adjective) if feminine else adjective
            words.append(_plural(adjective) if plural else adjective)
        return " ".join(words), plural

    def _complement(self) -> list[_Tok]:
        roll = self.rng.random()
        if roll < 0.1:
            preposition = self.rng.choice(lexicon.INFINITIVE_PREPOSITIONS)
            return [*self._phrase(preposition), _Tok(self._infinitive_word())]
        if roll < 0.35:
            return self._phrase(self.rng.choice(lexicon.COMPLEMENTS))
        if roll < 0.5:
            return self._phrase(" ".join(self.rng.sample(lexicon.OTHER_WORDS, 2)))
        if roll < 0.6:
            name = self.rng.choice(lexicon.NAMES) if self._chance(0.5) else self._name()
            preposition = self.rng.choice(("en", "de", "a", "con", "en casa de", "para"))
            return self._phrase(f"{preposition} {name}")
        phrase, _ = self._vocabulary_phrase()
        if self._chance(0.5):
            phrase = self.rng.choice(("en", "con", "de", "a", "para", "por", "sin")) + " " + phrase
        return self._phrase(phrase)

    def _complements(self) -> list[_Tok]:
        out: list[_Tok] = []
        for _ in range(self.rng.choice((0, 1, 1, 1, 2, 2, 3))):
            out += self._complement()
        return out

    def _pre_verb(self, person: str) -> list[_Tok]:
        """[adverb or "no"] [clitic]: a reflexive of the verb's person, or an object pronoun that
        says nothing about its subject ("te doy", "me lo dices")."""
        out: list[_Tok] = []
        roll = self.rng.random()
        if roll < 0.1:
            out += self._phrase(self.rng.choice(lexicon.PRE_VERB_ADVERBS))
        elif roll < 0.25:
            out.append(_Tok("no"))
        roll = self.rng.random()
        if roll < 0.1:
            out.append(_Tok(lexicon.REFLEXIVES[person]))
        elif roll < 0.18:
            out.append(_Tok(self.rng.choice(("lo", "la", "los", "las", "le", "les"))))
        elif roll < 0.3:
            out += self._phrase(self.rng.choice(_object_clitics(person)))
        return out

    def _clause(
        self,
        cue: lexicon.TimeCue | None,
        mood: str | None = None,
        subject_p: float = 0.7,
        lemma: str | None = None,
    ) -> list[_Tok]:
        return self._clause_with_subject(cue, mood, subject_p, lemma)[0]

    def _clause_with_subject(
        self,
        cue: lexicon.TimeCue | None,
        mood: str | None = None,
        subject_p: float = 0.7,
        lemma: str | None = None,
        carried: str | None = None,
    ) -> tuple[list[_Tok], str | None]:
        """[subject] [no] [clitic] verb [complements], sometimes with the subject after the verb;
        and the person the subject fixes. A carried person is a subject named earlier in the
        sentence and left unsaid here ("mi hermana y yo fuimos al cine y después cenamos")."""
        if carried is None:
            subject, person = self._maybe_subject(subject_p)
        else:
            subject, person = [], carried
        slot_person = person or self.rng.choice(PERSONS)
        verb = self._verb(lemma or self._lemma(), None, slot_person, _Context(person, cue, mood))
        pre = self._pre_verb(slot_person)
        if subject and self._chance(0.06):
            return [*pre, verb, *subject, *self._complements()], person
        return [*subject, *pre, verb, *self._complements()], person

    def _main(self) -> list[_Tok]:
        cue = self._maybe_cue()
        return self._with_cue(self._clause(cue), cue)

    def _question(self) -> list[_Tok]:
        cue = self._maybe_cue(0.4)
        person = self.rng.choice(PERSONS)
        subject: list[_Tok] = []
        if self._chance(0.3):
            subject, person = self._subject()
        verb = self._verb(self._lemma(), None, person, _Context(person if subject else None, cue))
        body = [*self._pre_verb(person), verb, *subject, *self._complements()]
        if self._chance(0.35):
            return self._with_cue(body, cue)  # a yes/no question: "¿Me das un vaso de agua?"
        words = self.rng.choice(lexicon.QUESTION_WORDS)
        return self._with_cue([*self._phrase(words), *body], cue)

    def _opener(self, templates: Sequence[str], tense: str = "present") -> list[_Tok] | None:
        template = self.rng.choice(templates)
        # Only an opener that starts with a personal verb can take a subject before it.
        first = _SLOT.match(template)
        personal = first is not None and first.group(3) is None
        subject, person = self._maybe_subject(0.4) if personal else ([], None)
        opener = self._template(template, person or self.rng.choice(PERSONS), tense)
        return None if opener is None else [*subject, *opener]

    def _perfect_subjunctive(self) -> list[_Tok]:
        """ "que nadie haya llamado": the auxiliary is checked, the participle is not."""
        subject, person = self._maybe_subject(0.6)
        slot = person or self.rng.choice(PERSONS)
        aux = self._verb(
            "haber", "present_subjunctive", slot, _Context(person, None, "subjunctive")
        )
        return [*subject, aux, _Tok(self._participle())]

    def _subjunctive(self) -> list[_Tok] | None:
        opener = self._opener(lexicon.SUBJUNCTIVE_TRIGGERS)
        if opener is None:
            return None
        if "haber" in self.table.lemmas and self._chance(0.12):
            return [*opener, *self._perfect_subjunctive()]
        clause = self._clause(None, "subjunctive")
        if self._chance(0.3):
            # A time phrase inside the clause does not change its mood ("ojalá que mañana haga").
            clause = self._with_cue(clause, self.rng.choice((_FUTURE, _NOW)))
        body = [*opener, *clause]
        roll = self.rng.random()
        if roll < 0.2:
            body += [_Tok("y"), _Tok("que"), *self._clause(None, "subjunctive", 0.3)]
        elif roll < 0.4:
            # "Quieren que estudie Medicina, pero yo prefiero Bellas Artes": the trigger's reach
            # ends with its clause; what follows "pero" or "y" is a main clause again.
            joint = self._punctuate(
                self._phrase(self.rng.choice(("pero", "y", "aunque"))), CLAUSE, 0.7
            )
            body += [*joint, *self._clause(None)]
        return body

    def _indicative_que(self) -> list[_Tok] | None:
        opener = self._opener(lexicon.INDICATIVE_OPENERS)
        if opener is None:
            return None
        cue = self._maybe_cue()
        mood = "indicative" if cue is None or cue.intended == "present" else None
        # The cue belongs to the clause after "que", not to the opener ("creo que ayer...").
        return [*opener, *self._with_cue(self._clause(cue, mood), cue)]

    def _reported(self) -> list[_Tok] | None:
        opener = self._opener(lexicon.REPORTED_SPEECH)
        return None if opener is None else [*opener, *self._clause(_REPORTED)]

    def _temporal(self) -> list[_Tok]:
        """ "cuando vengas, te enseñaré" (future), "cuando llueve, leo" (habit), or a past event."""
        conjunction = self._phrase(self.rng.choice(lexicon.TEMPORAL_CONJUNCTIONS))
        kind = self.rng.random()
        if kind < 0.5:
            time_clause = self._clause(None, "subjunctive", 0.5)
            main = self._clause(_FUTURE_ONLY)
        elif kind < 0.75:
            time_clause = self._clause(_HABIT, "indicative", 0.5)
            main = self._clause(_HABIT)
        else:
            time_clause = self._clause(_PAST, None, 0.5)
            main = self._clause(_PAST)
        if self._chance(0.6):
            return [*conjunction, *time_clause, *self._punctuate(main, CLAUSE, 0.75)]
        return [*main, *self._punctuate(conjunction, CLAUSE, 0.2), *time_clause]

    def _relative(self) -> list[_Tok] | None:
        """ "Busco un piso que tenga terraza" against "Tengo un piso que tiene terraza"."""
        unknown = self._chance(0.5)
        templates = lexicon.UNKNOWN_ANTECEDENT if unknown else lexicon.KNOWN_ANTECEDENT
        opener = self._opener(templates)
        if opener is None:
            return None
        if opener[-1].text != "que":
            # A known thing may be any noun phrase ("las tapas que probamos").
            antecedent = (
                self._vocabulary_phrase()[0]
                if not unknown and self._chance(0.5)
                else self.rng.choice(lexicon.ANTECEDENTS)
            )
            opener += [*self._phrase(antecedent), _Tok("que")]
        mood = "subjunctive" if unknown else "indicative"
        if self._chance(0.5):
            # The antecedent is the verb's object; its subject is its own ("que conozco").
            return [*opener, *self._clause(None, mood, 0.4)]
        ctx = _Context("él", None, mood)
        verb = self._verb(self._lemma(), None, "él", ctx)
        return [*opener, verb, *self._complements()]

    def _either_mood(self) -> list[_Tok]:
        word = self._phrase(self.rng.choice(lexicon.EITHER_MOOD))
        return [*word, *self._clause(None, "either")]

    def _infinitive(self) -> list[_Tok] | None:
        subject, person = self._maybe_subject()
        slot_person = person or self.rng.choice(PERSONS)
        cue = self._maybe_cue(0.4)
        taker = self.rng.choice(lexicon.INFINITIVE_TAKERS)
        lemma = taker[1 : taker.index("}")]
        if lemma not in self.table.lemmas:
            return None
        verb = self._verb(lemma, None, slot_person, _Context(person, cue))
        rest = self._phrase(taker[taker.index("}") + 1 :])
        target = _Tok(self._infinitive_word())
        body = [*subject, *self._pre_verb(slot_person), verb, *rest, target]
        return self._with_cue([*body, *self._complements()], cue)

    def _participle(self) -> str:
        if not self.regular or self._chance(0.3):
            return self.rng.choice(lexicon.IRREGULAR_PARTICIPLES)
        base = infinitive(self.rng.choice(self.regular))
        return base[:-2] + ("ado" if base.endswith("ar") else "ido")

    def _compound(self) -> list[_Tok] | None:
        """Perfect and progressive: the auxiliary is checked, the participle or gerund is not."""
        subject, person = self._maybe_subject()
        slot_person = person or self.rng.choice(PERSONS)
        if self._chance(0.5):
            aux_lemma, tense = "haber", self.rng.choice(("present", "present", "imperfect"))
            tail = self._participle()
        else:
            aux_lemma, tense = "estar", self.rng.choice(MAIN_CLAUSE_TENSES)
            base = infinitive(self.rng.choice(self.regular or self.lemmas))
            tail = base[:-2] + ("ando" if base.endswith("ar") else "iendo")
        if aux_lemma not in self.table.lemmas:
            return None
        aux = self._verb(aux_lemma, tense, slot_person, _Context(person, None))
        return [*subject, *self._pre_verb(slot_person), aux, _Tok(tail), *self._complements()]

    def _conditional_si(self) -> list[_Tok] | None:
        """ "Si tuviera..., compraría": the past-subjunctive verb is outside the table's tenses."""
        lemma = self._lemma()
        past = self.table.preferred(lemma, "preterite", "ellos")
        if not past.endswith("ron"):
            return None
        person = self.rng.choice(PERSONS)
        hypothesis = [_Tok("si"), _Tok(_past_subjunctive(past, person)), *self._complements()]
        return [*hypothesis, *self._punctuate(self._clause(_CONDITIONAL), CLAUSE, 0.75)]

    def _real_si(self) -> list[_Tok]:
        """ "Si tengo tiempo, iré": present after "si", future or present after it."""
        subject, person = self._maybe_subject(0.4)
        slot_person = person or self.rng.choice(PERSONS)
        condition = self._verb(self._lemma(), "present", slot_person, _Context(person, None))
        main = self._punctuate(self._clause(_FUTURE), CLAUSE, 0.75)
        return [_Tok("si"), *subject, condition, *self._complements(), *main]

    def _gustar(self) -> list[_Tok] | None:
        if not self.gustar:
            return None
        plural = self._chance(0.5)
        thing = self.rng.choice(lexicon.LIKED_PLURAL if plural else lexicon.LIKED_SINGULAR)
        person = "ellos" if plural else "él"
        cue = self._maybe_cue(0.35)
        obj = self._phrase(self.rng.choice(lexicon.INDIRECT_OBJECTS))
        neg = [_Tok("no")] if self._chance(0.15) else []
        verb = self._verb(self.rng.choice(self.gustar), None, person, _Context(person, cue))
        if self._chance(0.2) and not thing.endswith(("ar", "er", "ir")):
            # "Los idiomas me interesan": what is liked may come first.
            return self._with_cue([*self._phrase(thing), *neg, *obj, verb], cue)
        return self._with_cue([*neg, *obj, verb, *self._phrase(thing)], cue)

    def _two_clauses(self) -> list[_Tok]:
        cue = self._maybe_cue(0.6)
        if self._chance(0.25) and (cue is None or cue.intended != "future"):
            # "Aunque estaba cansada, terminé el informe": the subordinate clause first.
            leading = self._phrase(self.rng.choice(lexicon.LEADING_CONNECTORS))
            first, second = self._clause(cue), self._clause(cue)
            return self._with_cue([*leading, *first, *self._punctuate(second, CLAUSE, 0.9)], cue)
        connector = self.rng.choice(lexicon.CONNECTORS)
        first, person = self._clause_with_subject(cue)
        # After "y" an unsaid subject is the one just named ("fuimos al cine y después cenamos").
        same = connector.startswith("y") and person is not None and self._chance(0.6)
        second, _ = self._clause_with_subject(cue, carried=person if same else None)
        joint = self._punctuate(self._phrase(connector), CLAUSE, 0.4)
        return self._with_cue([*first, *joint, *second], cue)

    def _copula(self) -> list[_Tok] | None:
        """ "La película fue aburrida", "estamos cansadas": the copula is a verb to check, the
        participle after it is an adjective."""
        lemma = self.rng.choice(("ser", "estar", "estar", "parecer"))
        if lemma not in self.table.lemmas:
            return None
        subject, person = self._maybe_subject(0.6)
        slot_person = person or self.rng.choice(PERSONS)
        cue = self._maybe_cue(0.4)
        verb = self._verb(lemma, None, slot_person, _Context(person, cue))
        participle = self._participle()
        ending = self.rng.choice(("o", "a")) + ("s" if slot_person in _PLURAL else "")
        adjective = participle[:-1] + ending if participle.endswith("o") else participle
        degree = self._phrase(self.rng.choice(("muy", "bastante", "tan", "un poco", "")))
        body = [*subject, *self._pre_verb(slot_person), verb, *degree, _Tok(adjective)]
        return self._with_cue([*body, *self._complements()], cue)

    def _collision(self) -> list[_Tok] | None:
        """A verb spelt like a common non-verb, after its subject: "yo como", "ayer yo como"."""
        if not self.collisions:
            return None
        reading = self.rng.choice(self.collisions)
        pronoun = next(
            p for p, person in lexicon.PRONOUN_PERSONS.items() if person == reading.person
        )
        cue = self._maybe_cue(0.5)
        form = self.table.preferred(reading.lemma, reading.tense, reading.person)
        if self._chance(0.4):
            form = strip_accents(form)  # "Mi padre esta en casa"
        if cue is not None and reading.tense not in cue.allowed:
            meant = Reading(reading.lemma, cue.intended, reading.person)
            verb = _Tok(form, meant, not self.table.accepts(form, *_fields(meant)))
        else:
            verb = _Tok(form, reading, not self.table.accepts(form, *_fields(reading)))
        phrase, person = self._noun_phrase()
        # A noun subject when one agrees with the slot ("mi padre esta"), else the pronoun.
        subject = self._phrase(phrase) if person == reading.person else [_Tok(pronoun)]
        return self._with_cue([*subject, verb, *self._complements()], cue)

    def _mention(self) -> list[_Tok]:
        """A form quoted inside English or meta text: still a verb form to check."""
        lemma, tense, person = self._lemma(), self.rng.choice(TENSES), self.rng.choice(PERSONS)
        invented = invented_forms(self.table, lemma, tense, person)
        wrong = bool(invented) and self._chance(0.7)
        form = self.rng.choice(invented) if wrong else self._form(lemma, tense, person)
        before, _, after = self.rng.choice(lexicon.MENTION_FRAMES).partition("{}")
        verb = _Tok(form, Reading(lemma, tense, person), wrong)
        toks = [*self._phrase(before), verb, *self._phrase(after)]
        if self._chance(0.6):
            return [*toks, *self._punctuate(self._main(), self.rng.choice((SENTENCE, CLAUSE)), 0.8)]
        return toks

    def _no_verb(self) -> list[_Tok]:
        if self._chance(0.5):
            return self._phrase(_bare(self.rng.choice(lexicon.NO_VERB_SENTENCES)))
        # A table form used as a noun after a determiner ("el trabajo", "mi cuento").
        lemma = self._lemma()
        form = self.table.preferred(lemma, "present", self.rng.choice(("yo", "él")))
        det = self.rng.choice(("el", "un", "mi", "tu", "su"))
        return [_Tok(det), _Tok(form), *self._complements()]

    def _sentence(self) -> list[_Tok]:
        builders = (
            (self._main, 0.27),
            (self._copula, 0.05),
            (self._question, 0.05),
            (self._subjunctive, 0.12),
            (self._indicative_que, 0.07),
            (self._reported, 0.02),
            (self._temporal, 0.1),
            (self._relative, 0.06),
            (self._either_mood, 0.02),
            (self._infinitive, 0.07),
            (self._compound, 0.06),
            (self._conditional_si, 0.03),
            (self._real_si, 0.03),
            (self._gustar, 0.04),
            (self._two_clauses, 0.1),
            (self._mention, 0.03),
            (self._collision, 0.04),
            (self._no_verb, 0.04),
        )
        while True:
            build = self.rng.choices([b for b, _ in builders], [w for _, w in builders])[0]
            toks = build()
            if toks:
                return toks

    def _punctuate(self, toks: list[_Tok], mark: str, p: float) -> list[_Tok]:
        """Put mark before the first of toks with probability p."""
        if toks and self._chance(p):
            toks[0].mark = mark
        return toks

    def _foreign(self) -> list[_Tok]:
        if self._chance(0.5):
            return self._phrase(_bare(self.rng.choice(lexicon.FOREIGN_TEXT)))
        return self._phrase(
            " ".join(self.rng.choices(lexicon.ENGLISH_WORDS, k=self.rng.randint(2, 9)))
        )

    def example(self) -> Example:
        toks = self._sentence()
        if self._chance(0.15):
            # Long learner texts: a second sentence after the first.
            toks += self._punctuate(self._sentence(), SENTENCE, 1.0)
        if self._chance(0.1):
            foreign = self._foreign()
            if self._chance(0.6):
                toks = [*foreign, *self._punctuate(toks, self.rng.choice((SENTENCE, CLAUSE)), 0.8)]
            else:
                toks = [*toks, *self._punctuate(foreign, SENTENCE, 0.8)]
        for i, tok in enumerate(toks):
            if (i == 0 or tok.mark == SENTENCE) and self._chance(0.75):
                tok.text = tok.text[:1].upper() + tok.text[1:]
        toks[0].mark = ""
        return Example(
            tuple(t.text for t in toks),
            tuple(t.reading for t in toks),
            tuple(t.wrong for t in toks),
            tuple(t.mark for t in toks),
        )


_DETERMINERS = {
    (False, False): ("el", "un", "mi", "tu", "su", "este", "ese", "aquel", "nuestro", "otro"),
    (True, False): ("la", "una", "mi", "tu", "su", "esta", "esa", "aquella", "nuestra", "otra"),
    (False, True): ("los", "unos", "mis", "tus", "sus", "estos", "esos", "muchos", "dos"),
    (True, True): ("las", "unas", "mis", "tus", "sus", "estas", "esas", "muchas", "tres"),
}
_FINAL_ACCENT = str.maketrans("áéíóú", "aeiou")


def _plural(word: str) -> str:
    """Spanish plural of a noun or adjective (good enough for filler words)."""
    if word[-1] in "aeiouáéó":
        return word + "s"
    if word.endswith("z"):
        return word[:-1] + "ces"
    if word.endswith("s") and not any(ch in word[-3:] for ch in "áéíóú"):
        return word
    return word[:-3] + word[-3:].translate(_FINAL_ACCENT) + "es"


def _feminine(adjective: str) -> str:
    if adjective.endswith("o"):
        return adjective[:-1] + "a"
    if adjective.endswith(("és", "án", "ón", "ín")):
        return adjective[:-2] + adjective[-2:].translate(_FINAL_ACCENT) + "a"
    return adjective


_PLURAL = frozenset({"nosotros", "vosotros", "ellos"})


def _object_clitics(person: str) -> tuple[str, ...]:
    """Object pronouns that fit a verb of this person: never the subject's own person ("nos
    doy", "te das" read as reflexive or wrong)."""
    own = {"yo": "me nos", "nosotros": "me nos", "tú": "te os", "vosotros": "te os"}
    return tuple(
        c for c in lexicon.OBJECT_CLITICS if c.split()[0] not in own.get(person, "").split()
    )


def _fields(reading: Reading) -> tuple[str, str, str]:
    return reading.lemma, reading.tense, reading.person


def _bare(text: str) -> str:
    """Only the words of a phrase (punctuation is not a word to the model)."""
    return " ".join(span.text for span in words(text))


def _past_subjunctive(preterite_ellos: str, person: str) -> str:
    """Imperfect subjunctive (-ra) from the preterite ellos form: tuvieron → tuviera."""
    stem = preterite_ellos[: -len("ron")]
    if person == "nosotros":
        i = max(i for i, ch in enumerate(stem) if ch in _VOWELS)
        stem = stem[:i] + _ACCENTED[stem[i]] + stem[i + 1 :]
    return stem + ("ra", "ras", "ra", "ramos", "rais", "ran")[PERSONS.index(person)]


def generate(table: ConjugationTable, seed: int, count: int) -> Iterator[Example]:
    """count examples, the same ones for the same table and seed."""
    generator = Generator(table, seed)
    for _ in range(count):
        yield generator.example()
