"""A stage's completed check run (pure): its conclusion from the exit code, a title in a few
words, and a summary with the end of its log."""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from typing import Final

from core.names import check_name
from workers.check_output import MAX_TEXT, Output, fence, truncate_start
from workers.ci.annotations import Annotation
from workers.ci.matrix import Stage
from workers.ci.stage_runner import StageResult

# A stage command exits with this status to report "neutral" (as GitHub Actions once did).
NEUTRAL_EXIT: Final = 78


def conclusion(stage: Stage, result: StageResult) -> str:
    if result.timed_out:
        return "timed_out"
    if result.exit_code == 0:
        return "success"
    # A non-blocking stage warns: its failure must not fail the pull request. A stage says
    # "I could not judge this" (e.g. pip-audit with no vulnerability database) by NEUTRAL_EXIT.
    if result.exit_code == NEUTRAL_EXIT or not stage.blocking:
        return "neutral"
    return "failure"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _seconds(duration_s: float) -> str:
    digits = 0 if duration_s >= 10 else 1 if duration_s >= 1 else 2
    return f"{duration_s:.{digits}f} s"


def title(stage: Stage, result: StageResult) -> str:
    """The result in a few words: "3 lint problems", "passed in 12 s", "timed out after 300 s"."""
    if result.timed_out:
        return f"timed out after {stage.timeout_s} s"
    if result.exit_code == 0:
        return f"passed in {_seconds(result.duration_s)}"
    if result.exit_code == NEUTRAL_EXIT:
        return "inconclusive: see the summary"
    problems = len(result.annotations)
    text = (
        _plural(problems, f"{stage.name} problem")
        if problems
        else f"failed with exit code {result.exit_code}"
    )
    return text if stage.blocking else f"{text} (non-blocking)"


def _counts(annotations: Iterable[Annotation]) -> str:
    levels = [a.level for a in annotations]
    counted = [
        _plural(levels.count(lv), lv) for lv in ("failure", "warning", "notice") if lv in levels
    ]
    return ", ".join(counted) or "none"


def summary(stage: Stage, result: StageResult) -> str:
    """Markdown: what ran, how it ended, the counts, and the end of the log in a closed fence."""
    exit_text = "killed at the timeout" if result.timed_out else str(result.exit_code)
    head = "\n".join(
        [
            f"**{check_name(stage.name)}**: {title(stage, result)}.",
            "",
            "| | |",
            "|---|---|",
            f"| command | `{shlex.join(stage.command)}` |",
            f"| exit code | {exit_text} |",
            f"| duration | {_seconds(result.duration_s)} |",
            f"| annotations | {_counts(result.annotations)} |",
            f"| blocking | {'yes' if stage.blocking else 'no'} |",
            "",
            "### End of the log",
            "",
        ]
    )
    tail = result.log_tail or "(no output)"
    closing = fence(tail)
    # Room for the tail: everything else, including both fences and their newlines, comes first.
    room = MAX_TEXT - len(head) - 2 * len(closing) - len("text\n\n")
    return f"{head}{closing}text\n{truncate_start(tail, room)}\n{closing}"


def stage_output(stage: Stage, result: StageResult) -> Output:
    """The completed check run of a stage that ran."""
    return Output(
        title(stage, result),
        summary(stage, result),
        [a.to_github() for a in result.annotations],
    )
