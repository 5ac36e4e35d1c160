"""Generated training sentences: reproducible, labelled with table slots, held out from eval."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tutor.tokenizer import words
from tutor.training_data import Example, generate
from tutor.verify import ConjugationTable

ROOT = Path(__file__).resolve().parents[2]
EVAL_DIR = ROOT / "data" / "eval"


def _sample(table: ConjugationTable, seed: int = 3, count: int = 2000) -> list[Example]:
    return list(generate(table, seed=seed, count=count))


def test_same_seed_same_sentences(table: ConjugationTable) -> None:
    assert _sample(table) == _sample(table)
    assert _sample(table) != _sample(table, seed=4)


def test_labels_are_table_slots_and_errors_are_rejected_by_the_table(
    table: ConjugationTable,
) -> None:
    verbs = wrong = 0
    for example in _sample(table):
        for word, reading, is_wrong in zip(
            example.words, example.readings, example.wrong, strict=True
        ):
            if reading is None:
                assert not is_wrong
                continue
            verbs += 1
            wrong += is_wrong
            accepted = table.accepts(word, reading.lemma, reading.tense, reading.person)
            assert accepted != is_wrong, (example.sentence, word, reading)
    assert verbs > 2000
    assert 0.15 < wrong / verbs < 0.5


def _eval_sentences() -> set[tuple[str, ...]]:
    texts = []
    for path in EVAL_DIR.glob("*.jsonl"):
        lines = path.read_text(encoding="utf-8").splitlines()
        texts += [json.loads(line)["sentence"] for line in lines if line.strip()]
    exam = yaml.safe_load((ROOT / "data" / "exams" / "phase-39-capstone.yaml").read_text())
    texts += [item["sentence"] for item in exam["items"]]
    return {tuple(span.text.casefold() for span in words(text)) for text in texts}


def test_no_eval_sentence_is_generated(table: ConjugationTable) -> None:
    eval_sentences = _eval_sentences()
    assert len(eval_sentences) > 400
    generated = {
        tuple(w.casefold() for w in example.words)
        for example in generate(table, seed=20261126, count=20000)
    }
    assert not eval_sentences & generated


def test_a_time_clause_after_cuando_is_never_labelled_future(table: ConjugationTable) -> None:
    """ "cuando vendré" is the learner error of a future time clause, never a right answer.

    Only a "cuando" that opens a clause counts: filler words between complements are no clause.
    """
    seen = 0
    for example in _sample(table, count=4000):
        after_cuando = False
        for i, (word, reading, mark) in enumerate(
            zip(example.words, example.readings, example.marks, strict=True)
        ):
            if mark:
                after_cuando = False
            if word.casefold() == "cuando" and (i == 0 or mark):
                after_cuando = True
            elif reading is not None and after_cuando:
                assert reading.tense not in ("future", "conditional"), example.sentence
                after_cuando = False
                seen += 1
    assert seen > 50
