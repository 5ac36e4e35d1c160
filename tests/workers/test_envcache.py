"""Dependency environments: built once per hash of pyproject/requirements, reused, offline here."""

from __future__ import annotations

import os
import subprocess
import zipfile
from pathlib import Path

import pytest

from core.errors import EnvError
from workers.envcache import activate, ensure_env, env_key, requirements

PYPROJECT = """\
[project]
name = "tiny"
version = "0.1.0"
dependencies = {deps}

[project.optional-dependencies]
dev = ["tinydep"]
"""


def _project(root: Path, deps: str = "[]") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(PYPROJECT.format(deps=deps), encoding="utf-8")
    (root / "tiny.py").write_text("VALUE = 1\n", encoding="utf-8")
    return root


def _wheel(directory: Path) -> Path:
    """A real (minimal) wheel of a package `tinydep`, so pip can install it with no index."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "tinydep-1.0-py3-none-any.whl"
    files = {
        "tinydep/__init__.py": "ANSWER = 42\n",
        "tinydep-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: tinydep\nVersion: 1.0\n",
        "tinydep-1.0.dist-info/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = "".join(f"{name},,\n" for name in files) + "tinydep-1.0.dist-info/RECORD,,\n"
    with zipfile.ZipFile(path, "w") as wheel:
        for name, text in {**files, "tinydep-1.0.dist-info/RECORD": record}.items():
            wheel.writestr(name, text)
    return path


def _python(venv: Path, code: str) -> str:
    env = activate(venv, {"PATH": os.environ["PATH"]})
    return subprocess.run(
        ["python", "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_a_project_without_dependencies_gets_an_empty_env_once(tmp_path: Path) -> None:
    checkout = _project(tmp_path / "sha1")
    venv = ensure_env(checkout, tmp_path / "envs")
    assert _python(venv, "import sys; print(sys.prefix)") == str(venv)
    (venv / "marker").write_text("built once")
    # Another commit with the same inputs reuses the environment instead of building one.
    again = ensure_env(_project(tmp_path / "sha2"), tmp_path / "envs")
    assert again == venv
    assert (again / "marker").read_text() == "built once"


def test_dependencies_and_extras_are_installed_offline(tmp_path: Path) -> None:
    wheels = _wheel(tmp_path / "wheels").parent
    checkout = _project(tmp_path / "co", deps='["tinydep==1.0"]')
    offline = ["--no-index", "--find-links", str(wheels)]
    venv = ensure_env(checkout, tmp_path / "envs", pip_args=offline)
    assert _python(venv, "import tinydep; print(tinydep.ANSWER)") == "42"
    # The project itself is not installed: stages import it from their own checkout.
    with pytest.raises(subprocess.CalledProcessError):
        _python(venv, "import tiny")


def test_changed_inputs_make_a_new_environment(tmp_path: Path) -> None:
    checkout = _project(tmp_path / "co")
    before = env_key(checkout)
    (checkout / "tiny.py").write_text("VALUE = 2\n")
    assert env_key(checkout) == before  # source changes do not matter
    (checkout / "requirements-dev.txt").write_text("tinydep\n")
    assert env_key(checkout) != before
    assert env_key(checkout, extras=["dev"]) != env_key(checkout)
    assert requirements(checkout, ["dev"]) == [
        "tinydep",
        "--requirement",
        str(checkout / "requirements-dev.txt"),
    ]


def test_a_failed_install_raises_and_leaves_nothing_that_looks_ready(tmp_path: Path) -> None:
    checkout = _project(tmp_path / "co", deps='["not-available-anywhere==9"]')
    envs = tmp_path / "envs"
    with pytest.raises(EnvError, match="pip failed"):
        ensure_env(checkout, envs, pip_args=["--no-index"])
    with pytest.raises(EnvError, match="pip failed"):  # tried again, not taken from the cache
        ensure_env(checkout, envs, pip_args=["--no-index"])


def test_an_unknown_extra_is_refused(tmp_path: Path) -> None:
    with pytest.raises(EnvError, match="no optional dependencies named 'docs'"):
        requirements(_project(tmp_path / "co"), ["docs"])
