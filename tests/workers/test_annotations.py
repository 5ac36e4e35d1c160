"""Annotations parsed from what ruff, mypy, pytest and bandit really print."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from workers.ci.annotations import MAX_MESSAGE, Annotation, parse

LINT_ME = 'import os\nx: int = "a"\n\n\ndef f():\n    return undefined_name\n'
TESTS = """\
import pytest
from helper import check


def test_ok() -> None:
    assert 2 * 2 == 4


def test_bad() -> None:
    assert 2 * 2 == 5


class TestGroup:
    def test_method(self) -> None:
        check(2)


@pytest.mark.parametrize("n", [1, 2])
def test_param(n: int) -> None:
    assert n == 1
"""
# Lives outside the project: its frames must not become annotations.
HELPER = 'def check(n: int) -> None:\n    if n != 1:\n        raise ValueError(f"bad {n}")\n'


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "m.py").write_text(LINT_ME, encoding="utf-8")
    (root / "test_things.py").write_text(TESTS, encoding="utf-8")
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "helper.py").write_text(HELPER, encoding="utf-8")
    return root


def _run(project: Path, *argv: str) -> str:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(project.parent / "lib"), "NO_COLOR": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", *argv],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert proc.returncode != 0, proc.stdout + proc.stderr  # every tool here finds something
    return proc.stdout + proc.stderr


def _lines(annotations: list[Annotation]) -> list[tuple[str, int, str | None]]:
    return [(a.path, a.start_line, a.title) for a in annotations]


@pytest.mark.parametrize("output_format", ["full", "concise"])
def test_ruff_problems_point_at_their_lines(project: Path, output_format: str) -> None:
    out = _run(project, "ruff", "check", "--no-cache", "--output-format", output_format, "pkg")
    found = parse(out, str(project))
    assert _lines(found) == [
        ("pkg/m.py", 1, "ruff I001"),
        ("pkg/m.py", 1, "ruff F401"),
        ("pkg/m.py", 6, "ruff F821"),
    ]
    assert found[1].message == "`os` imported but unused (fixable with `ruff check --fix`)"
    assert found[2].message == "Undefined name `undefined_name`"
    assert {a.level for a in found} == {"failure"}


@pytest.mark.parametrize("output_format", ["full", "concise"])
def test_ruff_format_check_points_at_the_change(project: Path, output_format: str) -> None:
    (project / "pkg" / "ugly.py").write_text('"""Doc."""\n\nx = ( 1,2 )\n', encoding="utf-8")
    out = _run(
        project,
        "ruff",
        "format",
        "--no-cache",
        "--check",
        "--output-format",
        output_format,
        "pkg/ugly.py",
    )
    (found,) = parse(out, str(project))
    assert (found.path, found.start_line, found.title) == ("pkg/ugly.py", 3, "ruff format")
    assert found.message == "File would be reformatted"


def test_mypy_errors_with_their_codes(project: Path, tmp_path: Path) -> None:
    cache = str(tmp_path / "mypy-cache")
    out = _run(project, "mypy", "--strict", "--cache-dir", cache, "pkg")
    found = parse(out, str(project))
    assert _lines(found) == [
        ("pkg/m.py", 2, "mypy [assignment]"),
        ("pkg/m.py", 5, "mypy [no-untyped-def]"),
        ("pkg/m.py", 6, "mypy [name-defined]"),
    ]
    assert found[0].message.startswith("Incompatible types in assignment")


def test_files_outside_the_workdir_are_dropped(project: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.py"
    outside.write_text("y: str = 1\n", encoding="utf-8")
    cache = str(tmp_path / "mypy-cache")
    out = _run(
        project, "mypy", "--strict", "--cache-dir", cache, str(project / "pkg"), str(outside)
    )
    assert str(outside) in out
    paths = {a.path for a in parse(out, str(project))}
    assert paths == {"pkg/m.py"}  # absolute path inside the workdir made relative, outside dropped


@pytest.mark.parametrize("tb", ["long", "short"])
def test_pytest_failures_point_at_the_failing_line_in_the_test(project: Path, tb: str) -> None:
    out = _run(project, "pytest", "-p", "no:cacheprovider", f"--tb={tb}", "test_things.py")
    found = parse(out, str(project))
    assert _lines(found) == [
        ("test_things.py", 10, "test_things.py::test_bad failed"),
        ("test_things.py", 15, "test_things.py::TestGroup::test_method failed"),
        ("test_things.py", 20, "test_things.py::test_param[2] failed"),
    ]
    assert [a.message for a in found] == [
        "assert (2 * 2) == 5",
        "ValueError: bad 2",
        "assert 2 == 1",
    ]


def test_pytest_without_tracebacks_falls_back_to_the_test_definition(project: Path) -> None:
    out = _run(project, "pytest", "-p", "no:cacheprovider", "--tb=no", "-rf", "test_things.py")

    def read(path: str) -> str | None:
        return (project / path).read_text(encoding="utf-8")

    assert [a.start_line for a in parse(out, str(project), read)] == [9, 14, 19]
    assert [a.start_line for a in parse(out, str(project))] == [1, 1, 1]


def test_pytest_ids_with_spaces_and_log_lines_that_look_alike(project: Path) -> None:
    (project / "test_ids.py").write_text(
        "import logging\n"
        "import pytest\n\n\n"
        '@pytest.mark.parametrize("s", ["a b - c"])\n'
        "def test_words(s: str) -> None:\n"
        '    print("ERROR database - gone")\n'
        "    assert s == 'x'\n",
        encoding="utf-8",
    )
    out = _run(project, "pytest", "-p", "no:cacheprovider", "-rA", "test_ids.py")
    assert "ERROR database - gone" in out
    (found,) = parse(out, str(project))
    assert (found.path, found.start_line) == ("test_ids.py", 8)
    assert found.title == "test_ids.py::test_words[a b - c] failed"


def test_pytest_collection_errors_are_annotated(project: Path) -> None:
    (project / "test_broken.py").write_text("import no_such_module\n", encoding="utf-8")
    out = _run(project, "pytest", "-p", "no:cacheprovider", "test_broken.py")
    (found,) = parse(out, str(project))
    assert (found.path, found.start_line) == ("test_broken.py", 1)
    assert "No module named 'no_such_module'" in found.message


def test_bandit_issues_with_severity_as_level(project: Path) -> None:
    (project / "pkg" / "shell.py").write_text(
        "import subprocess\n\nsubprocess.call(input(), shell=True)\n", encoding="utf-8"
    )
    out = _run(project, "bandit", "-q", "pkg/shell.py")
    found = parse(out, str(project))
    assert _lines(found) == [
        ("pkg/shell.py", 1, "bandit B404"),
        ("pkg/shell.py", 3, "bandit B602"),
    ]
    assert [a.level for a in found] == ["warning", "failure"]


def test_one_log_with_several_tools_and_repeats_is_deduplicated(
    project: Path, tmp_path: Path
) -> None:
    ruff = _run(project, "ruff", "check", "--no-cache", "--output-format", "concise", "pkg")
    mypy = _run(project, "mypy", "--strict", "--cache-dir", str(tmp_path / "c"), "pkg")
    combined = parse(f"\x1b[1m{ruff}\x1b[0m\n{mypy}\n{ruff}", str(project))
    assert len(combined) == 6
    assert combined == parse(ruff, str(project)) + parse(mypy, str(project))


def test_to_github_matches_the_api_and_caps_lengths() -> None:
    long = Annotation("a.py", 3, 3, "failure", "m" * (MAX_MESSAGE + 10), "t" * 300)
    body = long.to_github()
    assert set(body) == {"path", "start_line", "end_line", "annotation_level", "message", "title"}
    assert len(str(body["message"])) == MAX_MESSAGE
    assert len(str(body["title"])) == 255
    assert "title" not in Annotation("a.py", 1, 1, "notice", "m").to_github()


def test_plain_text_yields_nothing() -> None:
    assert parse("All checks passed!\nSuccess: no issues found in 3 source files\n", "/w") == []
