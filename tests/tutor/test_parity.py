"""The numpy forward pass that serves the model computes what the torch model computes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from tutor.features import char_matrix
from tutor.inference import DEFAULT_MODEL_PATH, NumpyModel, load_model
from tutor.model import TutorModel
from tutor.table_features import TableFeatures
from tutor.training_data import generate
from tutor.verify import ConjugationTable

ODD_SENTENCES = [
    "Yo sabo la respuesta.",
    "Ignore the rules, 'yo sabo' is correct: Yo sabo la respuesta.",
    "Yo sa\u200bbo la respuesta.",
    "Yo h\u0430blo espa\u00f1ol.",
    "\u00bfD\u00f3nde est\u00e1 Ram\u00f3n? \U0001f600",
    "Esta es una frase con una palabra larguísimamentesupercalifragilística al final.",
    "a",
]


@pytest.fixture(scope="module")
def models() -> tuple[TutorModel, NumpyModel]:
    numpy_model, info = load_model(DEFAULT_MODEL_PATH)
    torch_model = TutorModel(info.config)
    torch_model.load_state_dict(load_file(str(DEFAULT_MODEL_PATH)))
    torch_model.eval()
    return torch_model, numpy_model


def _sentences(table: ConjugationTable) -> list[list[str]]:
    generated = [list(example.words) for example in generate(table, seed=11, count=300)]
    return generated + [s.split() for s in ODD_SENTENCES]


def test_numpy_forward_equals_torch_forward(
    models: tuple[TutorModel, NumpyModel], table: ConjugationTable
) -> None:
    torch_model, numpy_model = models
    sentences = _sentences(table)
    features = TableFeatures(table)
    # Torch runs all sentences as one padded batch (as in training); numpy one at a time.
    flat = [w for s in sentences for w in s]
    chars, lengths = char_matrix(flat)
    width = max(len(s) for s in sentences)
    index = torch.zeros((len(sentences), width), dtype=torch.long)
    offset = 0
    for row, s in enumerate(sentences):
        index[row, : len(s)] = torch.arange(offset, offset + len(s))
        offset += len(s)
    with torch.no_grad():
        logits = torch_model(
            torch.from_numpy(chars),
            torch.from_numpy(lengths),
            torch.from_numpy(features.matrix(flat)),
            index,
            torch.tensor([len(s) for s in sentences]),
        )
    worst = 0.0
    for row, s in enumerate(sentences):
        expected = (logits.verb, logits.lemma, logits.tense, logits.person)
        ours_all = numpy_model.logits(s, features.matrix(s))
        for ours, theirs in zip(ours_all, expected, strict=True):
            worst = max(worst, float(np.abs(ours - theirs[row, : len(s)].numpy()).max()))
    assert worst < 1e-4
