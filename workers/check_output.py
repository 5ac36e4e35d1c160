"""Check-run request bodies for a stage: queued, running, completed, skipped, cancelled, failed."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from workers.annotations import Annotation
from workers.matrix import Stage
from workers.stage_runner import StageResult

CHECK_PREFIX: Final = "deploybot/"
# A stage command exits with this status to report "neutral" (as GitHub Actions once did).
NEUTRAL_EXIT: Final = 78
MAX_TEXT: Final = 65535
MAX_ANNOTATIONS_PER_REQUEST: Final = 50
_CUT_NOTE = "… ({} characters cut)\n"

Json = dict[str, object]


@dataclass(frozen=True)
class Output:
    """What a completed check run shows: a title, a Markdown summary and line annotations."""

    title: str
    summary: str
    annotations: Sequence[Json] = ()


def completion_bodies(conclusion: str, output: Output) -> list[Json]:
    """PATCH bodies completing a check run: the first sets the conclusion with the first 50
    annotations, the rest append 50 at a time (GitHub's limit per request)."""
    step = MAX_ANNOTATIONS_PER_REQUEST
    notes = list(output.annotations)
    batches = [notes[i : i + step] for i in range(0, len(notes), step)] or [[]]
    shown: Json = {"title": output.title, "summary": truncate_start(output.summary, MAX_TEXT)}
    bodies: list[Json] = []
    for index, batch in enumerate(batches):
        body: Json = {"output": {**shown, "annotations": batch} if batch else shown}
        if index == 0:
            body["conclusion"] = conclusion
        bodies.append(body)
    return bodies


def check_name(stage_name: str) -> str:
    return CHECK_PREFIX + stage_name


def _output(title: str, summary: str) -> dict[str, object]:
    return {"title": title, "summary": truncate_start(summary, MAX_TEXT)}


def queued_body(stage_name: str, sha: str, external_id: str) -> dict[str, object]:
    """POST body creating the stage's check run, queued, before any stage starts."""
    return {
        "name": check_name(stage_name),
        "head_sha": sha,
        "status": "queued",
        "external_id": external_id,
        "output": _output("Queued", "Waiting for a worker to start this stage."),
    }


def in_progress_body(started_at: str) -> dict[str, object]:
    """PATCH body when the stage starts; started_at is ISO 8601 (YYYY-MM-DDTHH:MM:SSZ)."""
    return {
        "status": "in_progress",
        "started_at": started_at,
        "output": _output("Running", f"Started at {started_at}."),
    }


def skipped(reason: str) -> Output:
    """A stage the plan skips."""
    return Output("Skipped", reason)


def cancelled(reason: str) -> Output:
    """A stage that will not run: superseded by a newer push, or after a blocking failure."""
    return Output("Cancelled", reason)


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


def truncate_start(text: str, limit: int) -> str:
    """text cut from the start to at most limit characters, saying how much was cut."""
    if len(text) <= limit:
        return text
    # The note's length depends on the count it prints; size it with the largest count possible.
    keep = limit - len(_CUT_NOTE.format(len(text)))
    return _CUT_NOTE.format(len(text) - keep) + text[len(text) - keep :]


def fence(text: str) -> str:
    """A code fence longer than any run of backticks in text, so the text cannot close it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


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
