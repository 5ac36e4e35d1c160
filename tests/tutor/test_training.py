"""Training is reproducible: the same seed and table give byte-identical weights."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tutor.train import TrainConfig, main, save, train
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


@pytest.mark.slow
def test_verify_retrains_with_the_recorded_settings(
    table: ConjugationTable, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "m.safetensors"
    _weights(table, 5, path)
    assert main(["--verify", "--out", str(path)]) == 0
    assert "reproduced" in capsys.readouterr().out

    # Weights from another seed but recording this seed's settings: not what training gives.
    model, metadata = train(table, TrainConfig(seed=6, sentences=256, epochs=1))
    metadata["training"] = metadata["training"].replace('"seed": 6', '"seed": 5')
    save(model, metadata, path)
    assert main(["--verify", "--out", str(path)]) == 1
    assert "not what this code trains" in capsys.readouterr().err


def test_verify_needs_a_model_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--verify", "--out", str(tmp_path / "missing.safetensors")]) == 2
    assert "cannot verify" in capsys.readouterr().err
