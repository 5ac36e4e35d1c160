"""Two stagings at once never touch each other's gate: each serves the releases it gates under
scratch names of its own (a shared name let one staging's start stop the other's tutor)."""

from __future__ import annotations

import threading
from pathlib import Path

from core.errors import BackendError
from deploy.backends.base import Artifact
from deploy.gate import Policy
from deploy.gate_run import gather
from tests.deploys.conftest import NothingServes


def test_two_gates_of_one_release_at_once_serve_under_names_of_their_own(
    tmp_path: Path,
) -> None:
    backend = NothingServes(lambda name, _: BackendError(f"{name}: this runtime serves nothing"))
    release = Artifact("a" * 40, "", tmp_path)
    runs = [
        threading.Thread(target=gather, args=(release, None, tmp_path, backend, Policy()))
        for _ in range(2)
    ]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    assert len(backend.started) == 2
    assert len(set(backend.started)) == 2, backend.started
    assert all(name.startswith(f"deploybot-gate-{'a' * 12}-") for name in backend.started)
