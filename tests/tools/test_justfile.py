"""Recipes pass their arguments through intact, quotes and spaces included."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_an_argument_with_a_space_reaches_pytest_as_one_argument() -> None:
    just = shutil.which("just")
    if just is None:
        pytest.fail("just is not on PATH (pip install rust-just, part of the dev extra)")
    done = subprocess.run(
        [just, "test", "--collect-only", "-q", "-m", "not docker", "tests/tools/test_justfile.py"],
        cwd=ROOT,
        env={**os.environ, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 test collected" in done.stdout
