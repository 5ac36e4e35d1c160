"""The matrix file: the repository's own matrix loads, and every mistake names its line."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from workers.ci.matrix import TRIGGERS, MatrixError, Stage, load_matrix

ROOT = Path(__file__).resolve().parents[2]
REAL_MATRIX = ROOT / "data" / "ci-matrix.yaml"

GOOD = """\
stages:
  - name: lint
    command: just lint
    triggers: [pr]
    timeout_s: 60
  - name: eval
    command: [just, eval, --gate-threshold, "0.95"]
    triggers: [pr, release]
    paths: [tutor/, "*.md"]
    blocking: false
    timeout_s: 600
    order: 5
    run_after_failure: true
"""


def test_a_valid_matrix_loads_with_defaults_and_explicit_values() -> None:
    matrix = load_matrix(GOOD)
    assert matrix.stages == (
        Stage(
            name="lint",
            command=("just", "lint"),
            triggers=frozenset({"pr"}),
            blocking=True,
            paths=(),
            timeout_s=60,
            order=0,
            run_after_failure=False,
        ),
        Stage(
            name="eval",
            command=("just", "eval", "--gate-threshold", "0.95"),
            triggers=frozenset({"pr", "release"}),
            blocking=False,
            paths=("tutor/", "*.md"),
            timeout_s=600,
            order=5,
            run_after_failure=True,
        ),
    )
    assert matrix.stage("eval").timeout_s == 600
    with pytest.raises(KeyError, match="known: lint, eval"):
        matrix.stage("docs")


def test_a_string_command_is_split_like_a_shell_but_never_interpreted() -> None:
    text = GOOD.replace("command: just lint", """command: 'pytest -k "a and b" $HOME; rm -rf /'""")
    assert load_matrix(text).stage("lint").command == (
        "pytest",
        "-k",
        "a and b",
        "$HOME;",
        "rm",
        "-rf",
        "/",
    )


def test_the_repository_matrix_follows_the_design() -> None:
    matrix = load_matrix(REAL_MATRIX.read_text(encoding="utf-8"))
    by_name = {s.name: s for s in matrix.stages}
    assert list(by_name) == [
        "lint", "docs", "typecheck", "security", "test", "eval",
        "bench", "full-eval", "build", "drift",
    ]  # fmt: skip
    assert by_name["build"].command == ("just", "build-image")
    assert by_name["build"].triggers == {"release"}
    pr = [s.name for s in sorted(matrix.stages, key=lambda s: s.order) if "pr" in s.triggers]
    assert pr == ["lint", "docs", "typecheck", "security", "test", "eval"]
    assert by_name["eval"].command == ("just", "eval", "--gate-threshold", "0.95")
    assert by_name["eval"].paths == ("tutor/", "models/", "data/")
    assert by_name["docs"].paths == ("docs/",)
    assert not by_name["docs"].blocking
    assert not by_name["bench"].blocking
    assert by_name["bench"].triggers == {"nightly", "opt-in"}
    assert by_name["full-eval"].triggers == {"nightly", "release"}
    assert by_name["drift"].triggers == {"weekly"}
    assert by_name["security"].triggers == {"pr", "nightly"}
    assert all(s.triggers <= set(TRIGGERS) for s in matrix.stages)


@pytest.mark.skipif(shutil.which("just") is None, reason="`just` is not installed")
def test_every_stage_runs_a_recipe_the_justfile_has() -> None:
    recipes = set(
        subprocess.run(
            ["just", "--summary"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.split()
    )
    matrix = load_matrix(REAL_MATRIX.read_text(encoding="utf-8"))
    assert {s.name: s.command[1] for s in matrix.stages if s.command[1] not in recipes} == {}


def _error(text: str) -> MatrixError:
    with pytest.raises(MatrixError) as caught:
        load_matrix(text, source="ci.yaml")
    return caught.value


def _stage(lines: str) -> str:
    """A matrix whose second stage has these fields; its first field is on line 6."""
    return GOOD.split("  - name: eval")[0] + "  - " + lines.strip().replace("\n", "\n    ") + "\n"


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        (
            _stage("name: x\ncommand: a\ntriggers: [pr]\ntimeout_s: 1\ncolour: red"),
            10,
            "unknown key 'colour' in stage #2",
        ),
        (
            _stage("name: x\ncommand: a\ntriggers: [pr]\ntimeout_s: '60'"),
            9,
            "stage 'x': timeout_s must be an integer",
        ),
        (
            _stage("name: x\ncommand: a\ntriggers: [pr]\ntimeout_s: 0"),
            9,
            "stage 'x': timeout_s must be positive",
        ),
        (
            _stage("name: x\ncommand: a\ntriggers: [pr]\ntimeout_s: -5"),
            9,
            "stage 'x': timeout_s must be positive",
        ),
        (
            _stage("name: x\ncommand: a\ntriggers: [pr, hourly]\ntimeout_s: 1"),
            8,
            "stage 'x': unknown trigger 'hourly' (known: pr, nightly, weekly, release, opt-in)",
        ),
        (
            _stage("name: x\ncommand: a\ntriggers: []\ntimeout_s: 1"),
            8,
            "stage 'x': triggers is empty",
        ),
        (
            _stage("name: x\ncommand: a\ntriggers: pr\ntimeout_s: 1"),
            8,
            "stage 'x': triggers must be a list",
        ),
        (
            _stage("name: x\ncommand: ''\ntriggers: [pr]\ntimeout_s: 1"),
            7,
            "stage 'x': command is empty",
        ),
        (
            _stage("name: x\ncommand: []\ntriggers: [pr]\ntimeout_s: 1"),
            7,
            "stage 'x': command is empty",
        ),
        (
            _stage("name: x\ncommand: [just, 3]\ntriggers: [pr]\ntimeout_s: 1"),
            7,
            "each entry of stage 'x': command must be a string",
        ),
        (
            _stage("name: x\ncommand: just 'lint\ntriggers: [pr]\ntimeout_s: 1"),
            7,
            "stage 'x': command cannot be split into arguments: No closing quotation",
        ),
        (
            _stage("name: x\ncommand: a\ntriggers: [pr]\ntimeout_s: 1\nblocking: maybe"),
            10,
            "stage 'x': blocking must be true or false",
        ),
        (
            _stage("name: x\ncommand: a\ntriggers: [pr]\ntimeout_s: 1\npaths: tutor/"),
            10,
            "stage 'x': paths must be a list",
        ),
        (
            _stage("name: lint\ncommand: a\ntriggers: [pr]\ntimeout_s: 1"),
            6,
            "duplicate stage name 'lint'",
        ),
        (
            _stage("name: Lint Me\ncommand: a\ntriggers: [pr]\ntimeout_s: 1"),
            6,
            "stage name 'Lint Me' must be lower-case",
        ),
        (_stage("name: x\ncommand: a\ntriggers: [pr]"), 6, "stage #2 has no 'timeout_s'"),
        (
            _stage("name: x\ncommand: a\ntriggers: [pr]\ntimeout_s: 1\ntimeout_s: 2"),
            10,
            "duplicate key 'timeout_s' in stage #2",
        ),
        ("stages:\n  - name: x\n    command: [a\n    triggers: [pr]\n", 4, "invalid YAML:"),
        ("stages:\n  - name: x\n   bad indent: 1\n", 3, "invalid YAML:"),
        ("", 1, "the file is empty"),
        ("stages: []\n", 1, "stages is empty"),
        ("stage:\n  - name: x\n", 1, "unknown key 'stage' in the matrix (known: stages)"),
        ("- name: x\n", 1, "the matrix must be a mapping"),
        ("stages:\n  - just lint\n", 2, "stage #1 must be a mapping"),
    ],
)
def test_each_mistake_is_reported_with_file_line_and_reason(
    text: str, line: int, reason: str
) -> None:
    error = _error(text)
    assert (error.source, error.line) == ("ci.yaml", line)
    assert error.reason.startswith(reason), error.reason
    assert str(error) == f"ci.yaml:{line}: {error.reason}"


def test_the_default_source_is_the_matrix_path() -> None:
    with pytest.raises(MatrixError, match=re.escape("data/ci-matrix.yaml:1: the file is empty")):
        load_matrix("")
