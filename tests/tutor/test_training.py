"""Training is reproducible: the same seed and table give byte-identical weights."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tutor.train import TrainConfig, save, train
from tutor.verify import ConjugationTable


def _weights(table: ConjugationTable, seed: int, path: Path) -> bytes:
    model, metadata = train(table, TrainConfig(seed=seed, sentences=256, epochs=1))
    digest = save(model, metadata, path)
    data = path.read_bytes()
    assert digest == "sha256:" + hashlib.sha256(data).hexdigest()
    return data


@pytest.mark.slow
def test_two_runs_with_one_seed_give_identical_weights(
    table: ConjugationTable, tmp_path: Path
) -> None:
    first = _weights(table, 5, tmp_path / "a.safetensors")
    second = _weights(table, 5, tmp_path / "b.safetensors")
    other_seed = _weights(table, 6, tmp_path / "c.safetensors")
    assert first == second
    assert first != other_seed
