"""The planner: which stages run for a trigger and a diff, and what a blocking failure cancels."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from workers.ci.matrix import Matrix, load_matrix
from workers.ci.planner import PlannedStage, after_failure, path_matches, plan

REAL = load_matrix(
    (Path(__file__).resolve().parents[2] / "data" / "ci-matrix.yaml").read_text(encoding="utf-8")
)


def _runs(planned: list[PlannedStage]) -> list[str]:
    return [p.stage.name for p in planned if p.skip_reason is None]


def _skips(planned: list[PlannedStage]) -> dict[str, str]:
    return {p.stage.name: p.skip_reason for p in planned if p.skip_reason is not None}


def test_a_pr_touching_only_bot_code_runs_the_blocking_set_and_skips_eval_and_docs() -> None:
    planned = plan(REAL, "pr", ["bot/app.py", "README.md"])
    assert [p.stage.name for p in planned] == [
        "lint", "docs", "typecheck", "security", "test", "eval",
    ]  # fmt: skip
    assert _runs(planned) == ["lint", "typecheck", "security", "test"]
    assert _skips(planned) == {
        "docs": "no change under docs/",
        "eval": "no change under tutor/, models/ or data/",
    }


@pytest.mark.parametrize(
    "changed", [["tutor/model.py"], ["models/x.safetensors"], ["data/verbs.yaml"]]
)
def test_a_pr_touching_the_tutor_models_or_data_runs_eval(changed: list[str]) -> None:
    assert "eval" in _runs(plan(REAL, "pr", changed))


def test_unknown_changes_run_everything_the_trigger_covers() -> None:
    assert _runs(plan(REAL, "pr", None)) == [
        "lint", "docs", "typecheck", "security", "test", "eval",
    ]  # fmt: skip


def test_an_empty_diff_skips_every_path_filtered_stage() -> None:
    assert _skips(plan(REAL, "pr", [])).keys() == {"docs", "eval"}


@pytest.mark.parametrize(
    ("trigger", "expected"),
    [
        ("nightly", ["security", "bench", "full-eval"]),
        ("weekly", ["drift"]),
        ("release", ["full-eval", "build"]),
        ("opt-in", ["bench"]),
    ],
)
def test_scheduled_and_release_triggers_pick_their_stages(
    trigger: str, expected: list[str]
) -> None:
    assert _runs(plan(REAL, trigger, None)) == expected


def test_stages_run_cheapest_first_by_order_then_file_position() -> None:
    stage = REAL.stage("lint")
    matrix = Matrix(
        (
            replace(stage, name="slow", order=9),
            replace(stage, name="b", order=1),
            replace(stage, name="a", order=1),
        )
    )
    assert [p.stage.name for p in plan(matrix, "pr", None)] == ["b", "a", "slow"]


def test_retest_of_one_stage_runs_it_even_when_the_diff_would_skip_it() -> None:
    assert plan(REAL, "pr", ["bot/app.py"], only="eval") == [PlannedStage(REAL.stage("eval"), None)]


def test_retest_can_opt_in_to_an_opt_in_stage_but_not_to_another_trigger() -> None:
    assert plan(REAL, "pr", [], only="bench") == [PlannedStage(REAL.stage("bench"), None)]
    (drift,) = plan(REAL, "pr", [], only="drift")
    assert drift.skip_reason == "drift runs on weekly, not on pr"


def test_unknown_stage_and_unknown_trigger_are_refused() -> None:
    with pytest.raises(KeyError, match="no stage 'lnt'"):
        plan(REAL, "pr", None, only="lnt")
    with pytest.raises(ValueError, match="unknown trigger 'push'"):
        plan(REAL, "push", None)


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("docs/", "docs/index.md", True),
        ("docs/", "docs", False),
        ("docs/", "tutor/docs/x.md", False),
        ("docs", "docs/index.md", True),
        ("docs", "docsite/x", False),
        ("README.md", "README.md", True),
        ("*.md", "docs/deep/x.md", True),
        ("tutor/*.py", "tutor/app.py", True),
        ("tutor/*.py", "tutor/eval/app.pyc", False),
    ],
)
def test_path_filters(pattern: str, path: str, matches: bool) -> None:
    assert path_matches(pattern, path) is matches


def test_a_blocking_failure_cancels_what_remains_except_run_after_failure_stages() -> None:
    planned = plan(REAL, "pr", ["docs/index.md"])
    names = [p.stage.name for p in planned]
    # lint failed; everything after it is decided.
    decided = after_failure(planned[names.index("lint") + 1 :], "lint")
    assert {p.stage.name: reason for p, reason in decided} == {
        "docs": None,  # non-blocking, cheap: marked run_after_failure
        "typecheck": "cancelled: blocking stage lint failed",
        "security": "cancelled: blocking stage lint failed",
        "test": "cancelled: blocking stage lint failed",
        "eval": None,  # already skipped by the path filter: stays skipped
    }
    assert [p for p, _ in decided] == planned[1:]


def test_after_failure_without_a_name_still_gives_a_reason() -> None:
    ((_, reason),) = after_failure(plan(REAL, "pr", None, only="test"))
    assert reason == "cancelled: a blocking stage failed"
