"""Which optional dependency groups a commit's CI installs."""

from __future__ import annotations

from pathlib import Path

from workers.ci.envcache import read_inputs
from workers.ci.stage_env import ci_extras

PROJECT = '[project]\nname = "x"\nversion = "1"\n[project.optional-dependencies]\n'


def pyproject(text: str) -> dict[str, bytes]:
    return {"pyproject.toml": text.encode()}


def test_the_default_groups_the_project_declares() -> None:
    assert ci_extras(pyproject(PROJECT + 'dev = ["ruff"]\ndocs = ["x"]\n')) == ("dev",)


def test_the_project_names_its_own_groups() -> None:
    text = (
        PROJECT
        + 'dev = ["ruff"]\ntrain = ["torch"]\n'
        + '[tool.deploybot]\nci-extras = ["dev", "train", "gone"]\n'
    )
    assert ci_extras(pyproject(text)) == ("dev", "train")


def test_no_pyproject_no_extras_and_a_broken_one_is_left_to_the_install() -> None:
    assert ci_extras({}) == ()
    assert ci_extras(pyproject("[project\n")) == ()


def test_this_repository_installs_the_training_extra() -> None:
    assert ci_extras(read_inputs(Path(__file__).resolve().parents[2])) == ("dev", "train")
