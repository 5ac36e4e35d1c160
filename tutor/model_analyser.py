"""The model as an analyser: is each word a verb, and which lemma, tense and person were meant."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from tutor import lexicon
from tutor.agreement import Cue, a_name, clitic_before_verb, liked_cue, subject_cue
from tutor.features import canonical_text, model_token
from tutor.inference import Array, ModelFileError, NumpyModel, load_model
from tutor.mood import mood_cue
from tutor.regular import infinitive, strip_accents
from tutor.table_features import TableFeatures
from tutor.verify import PERSONS, TENSES, ConjugationTable, Reading

# A word is checked as a verb when the model gives it at least this probability.
VERB_THRESHOLD = 0.5
# The weight the form's own readings need for approval. On generated held-out sentences 0.35
# scores as well as 0.5 while flagging fewer right forms whose tense or person context leaves
# open. A word checked although the model reads it as no verb (a table form found by lookup)
# gets a lower bar: the model's tense and person for it are guesses, not readings.
APPROVAL_MASS = 0.35
LOOKUP_APPROVAL_MASS = 0.05
# Longest first, so "los" is tried before "lo".
_CLITICS = tuple(sorted(lexicon.CLITICS, key=len, reverse=True))
# How sure the model must be of a tense to correct a form's tense beside its person.
SURE_OF_TENSE = 0.9
# Lemmas considered for a word the table does not know, most likely first.
_LEMMA_CANDIDATES = 3


@dataclass(frozen=True)
class ModelGuess:
    """The model's three independent distributions over lemma, tense and person for one word.

    What the sentence's words settle outranks the model: the persons a subject pronoun (or what
    a verb like gustar agrees with) allows, the moods a conjunction allows.
    """

    lemma_index: dict[str, int]
    lemmas: tuple[str, ...]
    lemma: Array
    tense: Array
    person: Array
    chosen_lemma: int
    agreement: Cue | None = None
    mood: Cue | None = None
    approval_mass: float = APPROVAL_MASS
    # The slots of the chosen lemma the word stands for: the table's readings of a form, or
    # the slots a known misspelling misses.
    own: tuple[Reading, ...] = ()
    misspelt: bool = False

    @property
    def because(self) -> tuple[Cue, ...]:
        return tuple(cue for cue in (self.agreement, self.mood) if cue is not None)

    @property
    def best(self) -> Reading:
        person = (
            PERSONS[int(np.argmax(self.person))]
            if self.agreement is None
            else self.agreement.allowed[0]
        )
        return Reading(self.lemmas[self.chosen_lemma], self._tense(), person)

    def _tense(self) -> str:
        """The likeliest tense the mood allows. A misspelling ("me despierté" → "desperté"), or
        a real form whose person the sentence rules out ("mi abuelo y él pintó" → "pintaron"),
        keeps its own tense, the first of them for a form of two ("vivimos": present), unless
        the model is sure of another ("ayer él hablo" → "habló")."""
        allowed = TENSES if self.mood is None else self.mood.allowed
        likeliest = max(allowed, key=lambda tense: float(self.tense[TENSES.index(tense)]))
        if self.mood is not None or not self.own:
            return likeliest
        if float(self.tense[TENSES.index(likeliest)]) >= SURE_OF_TENSE:
            return likeliest
        fits = self.agreement is None or any(r.person in self.agreement.allowed for r in self.own)
        if fits and not self.misspelt:
            return likeliest  # a real form of the right person: what is wrong is its tense
        return min((r.tense for r in self.own), key=TENSES.index)

    def probability(self, reading: Reading) -> float:
        index = self.lemma_index.get(reading.lemma)
        if index is None:
            return 0.0
        tense = _weight(TENSES, self.tense, self.mood, reading.tense)
        person = _weight(PERSONS, self.person, self.agreement, reading.person)
        return float(self.lemma[index]) * tense * person


def _weight(values: tuple[str, ...], p: Array, cue: Cue | None, value: str) -> float:
    if cue is None:
        return float(p[values.index(value)])
    return float(value in cue.allowed)


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions)."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def _allowed_distance(word: str) -> int:
    """How far an invented form may be from every real form of its verb ("sabo" → "sabe")."""
    return 1 if len(word) <= 5 else 2 if len(word) <= 9 else 3


class ModelAnalyser:
    def __init__(
        self, model: NumpyModel, lemmas: Sequence[str], digest: str, table: ConjugationTable
    ) -> None:
        self.model = model
        self.lemmas = tuple(lemmas)
        self.lemma_index = {lemma: i for i, lemma in enumerate(self.lemmas)}
        self.digest = digest
        self.table = table
        self.non_verbs = lexicon.non_verb_words()
        self._plain_forms = cache(self._forms_of)
        self.infinitives = frozenset(infinitive(lemma) for lemma in table.lemmas)
        self.table_features = TableFeatures(table)
        self.misspelt = self.table_features.misspelt

    @classmethod
    def load(cls, path: Path, table: ConjugationTable) -> ModelAnalyser:
        """Load weights trained on exactly this table (else ModelFileError: retrain)."""
        model, info = load_model(path)
        if info.table_digest != table.digest:
            raise ModelFileError(
                f"{path}: trained on table {info.table_digest} but the table is {table.digest};"
                " retrain with `python -m tutor.train`"
            )
        return cls(model, info.lemmas, info.digest, table)

    def _forms_of(self, lemma: str) -> frozenset[str]:
        return frozenset(
            strip_accents(form.casefold())
            for tense in TENSES
            for person in PERSONS
            for form in self.table.forms(lemma, tense, person)
        )

    def _is_infinitive_with_clitics(self, word: str) -> bool:
        """ "decirme", "dárselo": an infinitive carrying pronouns is never a finite verb."""
        rest = strip_accents(word)
        for _ in range(2):
            clitic = next((c for c in _CLITICS if rest.endswith(c) and len(rest) > len(c)), None)
            if clitic is None:
                return False
            rest = rest[: -len(clitic)]
            # The table's own infinitives, or any word shaped like one ("mudarme").
            if rest in self.infinitives or (len(rest) > 3 and rest.endswith(("ar", "er", "ir"))):
                return True
        return False

    def _lemma_for(self, word: str, likely: bool, lemma_p: Array) -> int | None:
        """Which lemma the learner meant, or None when the word is not a verb to check.

        A form the table knows is a verb unless it is also an everyday non-verb word ("cena",
        "como") that the model reads as a non-verb here; its lemma is one of the table's.
        A word the table does not know is a verb when the model says so, or when it is a known
        misspelling. A known misspelling takes the verb it misspells; any other word must look
        like a form of the lemma chosen, so the model may map "sabo" to saber but never "García"
        to agradecer.
        """
        folded = canonical_text(word).casefold()
        readings = self.table.readings(word)
        if readings:
            if not likely and folded in self.non_verbs:
                return None
            lemmas = {r.lemma for r in readings}
            return max(
                (self.lemma_index[lemma] for lemma in lemmas if lemma in self.lemma_index),
                key=lambda i: lemma_p[i],
                default=None,
            )
        misspelt = self.misspelt.get(folded, ())
        if not misspelt and self._is_infinitive_with_clitics(folded):
            return None  # a known misspelling first: "despierté" is no "despier" + "te"
        if folded in self.non_verbs and (not misspelt or not likely):
            # An everyday non-verb word is a verb only as a misspelling the model recognises
            # ("esta" for "está"), never as a new form ("tiempo" is not a form of temer).
            return None
        if not likely and not misspelt:
            return None
        spelt_for = [self.lemma_index[r.lemma] for r in misspelt if r.lemma in self.lemma_index]
        if spelt_for:
            # A spelling learners write for a known verb ("decieron" for decir's "dijeron"):
            # that verb, not one merely a letter or two away ("dieron").
            return max(spelt_for, key=lambda i: lemma_p[i])
        plain = strip_accents(folded)
        ranked = [int(i) for i in np.argsort(-lemma_p)[:_LEMMA_CANDIDATES]]
        allowed = _allowed_distance(plain)
        for index in ranked:
            forms = self._plain_forms(self.lemmas[index])
            if any(
                abs(len(form) - len(plain)) <= allowed and edit_distance(plain, form) <= allowed
                for form in forms
            ):
                return index
        return None

    def analyse(self, words: Sequence[str], boundaries: Sequence[str]) -> list[ModelGuess | None]:
        tokens = [model_token(w, b) for w, b in zip(words, boundaries, strict=True)]
        p = self.model.predict(tokens, self.table_features.matrix(words))
        verbs = [
            bool(v >= VERB_THRESHOLD) and not a_name(words, boundaries, i)
            for i, v in enumerate(p.verb)
        ]
        guesses: list[ModelGuess | None] = []
        for i, word in enumerate(words):
            found, misspelt = self._slots(word)
            # A form of a verb like gustar after "me" agrees with what is liked; that also makes
            # "gusto" in "me gusto la música" a verb, not the noun.
            agreement = liked_cue(words, boundaries, verbs, i, found) or subject_cue(
                words, boundaries, verbs, i
            )
            likely = verbs[i] or (agreement is not None and agreement.next_to_verb)
            skipped = clitic_before_verb(words, boundaries, verbs, i) or (
                not likely and a_name(words, boundaries, i)
            )
            chosen = None if skipped else self._lemma_for(word, likely, p.lemma[i])
            if chosen is None:
                guesses.append(None)
                continue
            guesses.append(
                ModelGuess(
                    self.lemma_index,
                    self.lemmas,
                    p.lemma[i],
                    p.tense[i],
                    p.person[i],
                    chosen,
                    agreement,
                    mood_cue(words, boundaries, verbs, self.table.readings, i) if likely else None,
                    APPROVAL_MASS if likely else LOOKUP_APPROVAL_MASS,
                    tuple(r for r in found if r.lemma == self.lemmas[chosen]),
                    misspelt,
                )
            )
        return guesses

    def _slots(self, word: str) -> tuple[tuple[Reading, ...], bool]:
        """The slots the word stands for: the table's readings of a form, else the slots a known
        misspelling misses; and whether it is such a misspelling."""
        known = self.table.readings(word)
        return known or self.misspelt.get(canonical_text(word).casefold(), ()), not known
