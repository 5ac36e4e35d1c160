"""Which stages of the matrix run for a trigger and a diff, and which survive a blocking failure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

from workers.ci.matrix import TRIGGERS, Matrix, Stage
from workers.conclusions import is_failed


@dataclass(frozen=True)
class PlannedStage:
    stage: Stage
    skip_reason: str | None  # set: report the check run as skipped with this reason


def path_matches(pattern: str, path: str) -> bool:
    """A changed file matches "dir/" when under it, a glob when it matches, else by name or dir."""
    if pattern.endswith("/"):
        return path.startswith(pattern)
    if any(c in pattern for c in "*?["):
        return fnmatchcase(path, pattern)
    return path == pattern or path.startswith(pattern + "/")


def _spoken_list(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def _path_skip(stage: Stage, changed_files: Sequence[str] | None) -> str | None:
    # Unknown changes (None: a force-push, a huge diff, the API said no) run everything.
    if not stage.paths or changed_files is None:
        return None
    if any(path_matches(p, f) for p in stage.paths for f in changed_files):
        return None
    return f"no change under {_spoken_list(stage.paths)}"


FORK_NEEDS_DOCKER = (
    "needs Docker, which deploybot never gives code from a fork (it is root on the host)"
)


def plan(
    matrix: Matrix,
    trigger: str,
    changed_files: Sequence[str] | None,
    only: str | None = None,
    *,
    fork: bool = False,
) -> list[PlannedStage]:
    """The stages for this trigger, cheapest first, each to run or to report as skipped.

    `only` (from `/retest <stage>`) plans that one stage: it runs even when the diff would have
    skipped it (someone asked for it by name), if its triggers include this one or "opt-in".
    For a fork's code (`fork`), a stage that needs Docker is skipped, even after /ok-to-test.
    KeyError for a name the matrix does not have; ValueError for an unknown trigger.
    """
    if trigger not in TRIGGERS:
        raise ValueError(f"unknown trigger {trigger!r} (known: {', '.join(TRIGGERS)})")
    if only is not None:
        stage = matrix.stage(only)
        if fork and "docker" in stage.needs:
            return [PlannedStage(stage, FORK_NEEDS_DOCKER)]
        if trigger in stage.triggers or "opt-in" in stage.triggers:
            return [PlannedStage(stage, None)]
        runs_on = ", ".join(sorted(stage.triggers))
        return [PlannedStage(stage, f"{stage.name} runs on {runs_on}, not on {trigger}")]
    chosen = sorted(
        (s for s in matrix.stages if trigger in s.triggers), key=lambda s: s.order
    )  # sorted() is stable: equal orders keep the file's order
    return [
        PlannedStage(
            s, FORK_NEEDS_DOCKER if fork and "docker" in s.needs else _path_skip(s, changed_files)
        )
        for s in chosen
    ]


def after_failure(
    remaining: Sequence[PlannedStage], failed_stage: str | None = None
) -> list[tuple[PlannedStage, str | None]]:
    """After a blocking failure: each remaining stage with None (still runs) or why it is cancelled.

    Stages already skipped keep their skip (None here); stages marked run_after_failure still run.
    """
    cause = f"blocking stage {failed_stage} failed" if failed_stage else "a blocking stage failed"
    return [
        (
            p,
            None
            if p.skip_reason is not None or p.stage.run_after_failure
            else f"cancelled: {cause}",
        )
        for p in remaining
    ]


class FailureCancels:
    """Which of the remaining stages the run's first blocking failure cancels, as it goes."""

    def __init__(self) -> None:
        self._reasons: dict[str, str] | None = None

    def reason(self, name: str) -> str | None:
        """Why the stage is cancelled, or None when it still runs."""
        return (self._reasons or {}).get(name)

    def after(self, planned: Sequence[PlannedStage], index: int, state: str | None) -> None:
        """Take note of how planned[index] ended."""
        p = planned[index]
        if self._reasons is None and p.stage.blocking and is_failed(state):
            rest = after_failure(planned[index + 1 :], p.stage.name)
            self._reasons = {q.stage.name: reason for q, reason in rest if reason is not None}
