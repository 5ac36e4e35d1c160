"""Check-run request bodies for a stage: queued, running, completed, skipped, cancelled, failed."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from core.names import check_name

MAX_TEXT: Final = 65535
MAX_TITLE: Final = 255
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
    shown = output_json(output)
    bodies: list[Json] = []
    for index, batch in enumerate(batches):
        body: Json = {"output": {**shown, "annotations": batch} if batch else shown}
        if index == 0:
            body["conclusion"] = conclusion
        bodies.append(body)
    return bodies


def _output(title: str, summary: str) -> dict[str, object]:
    return {"title": title[:MAX_TITLE], "summary": truncate_start(summary, MAX_TEXT)}


def output_json(output: Output) -> Json:
    """A check run's output as GitHub takes it (no annotations), within GitHub's limits."""
    return _output(output.title, output.summary)


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
