"""The model's size and the committed weights file's identity."""

from __future__ import annotations

import json

from safetensors import safe_open

from tutor.architecture import ModelConfig
from tutor.inference import DEFAULT_MODEL_PATH, load_model
from tutor.model import TutorModel, parameter_count
from tutor.verify import ConjugationTable


def test_parameter_count_is_between_400k_and_600k(table: ConjugationTable) -> None:
    model = TutorModel(ModelConfig(n_lemmas=len(table.lemmas)))
    assert 400_000 <= parameter_count(model) <= 600_000


def test_committed_weights_have_the_counted_size(table: ConjugationTable) -> None:
    with safe_open(str(DEFAULT_MODEL_PATH), framework="numpy") as f:
        stored = sum(f.get_tensor(name).size for name in f.keys())  # noqa: SIM118
    model = TutorModel(ModelConfig(n_lemmas=len(table.lemmas)))
    assert stored == parameter_count(model)


def test_committed_model_was_trained_on_the_pinned_table(table: ConjugationTable) -> None:
    _, info = load_model(DEFAULT_MODEL_PATH)
    assert info.table_digest == table.digest
    assert info.lemmas == table.lemmas
    assert info.digest.startswith("sha256:")
    assert json.loads(info.metadata["training"])["seed"] == int(info.metadata["seed"])
