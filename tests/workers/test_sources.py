"""Which optional dependency groups a checkout's CI installs."""

from __future__ import annotations

from pathlib import Path

from workers.sources import ci_extras

PROJECT = '[project]\nname = "x"\nversion = "1"\n[project.optional-dependencies]\n'


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(text, encoding="utf-8")
    return tmp_path


def test_the_default_groups_the_project_declares(tmp_path: Path) -> None:
    checkout = write(tmp_path, PROJECT + 'dev = ["ruff"]\ndocs = ["x"]\n')
    assert ci_extras(checkout) == ("dev",)


def test_the_project_names_its_own_groups(tmp_path: Path) -> None:
    text = (
        PROJECT
        + 'dev = ["ruff"]\ntrain = ["torch"]\n'
        + '[tool.deploybot]\nci-extras = ["dev", "train", "gone"]\n'
    )
    assert ci_extras(write(tmp_path, text)) == ("dev", "train")


def test_no_pyproject_no_extras(tmp_path: Path) -> None:
    assert ci_extras(tmp_path) == ()


def test_this_repository_installs_the_training_extra() -> None:
    assert ci_extras(Path(__file__).resolve().parents[2]) == ("dev", "train")
