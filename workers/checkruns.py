"""The check runs of one CI run (a pipeline's stages, a tag's release and gate), by stage name.

Each is created once, even across a crash between the create and the record of it (the one
create-once rule of every check run, deploys' included: `RepoGitHub.create_check_run_once`);
completing one sends annotations 50 per request; the client scrubs every text of every secret;
and one rule decides when a worker was lost too often. A deploy's check run, which goes with its
deployment and summaries, is reported by workers/deploys/report.py on the same rules.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from workers import messages, run_state
from workers.check_output import Output, completion_bodies, in_progress_body
from workers.github import RepoGitHub

log = logging.getLogger(__name__)

WORKER_LOST: Final = "worker lost"


@dataclass(frozen=True)
class Ended:
    """A stage that must not run (again): the state it ended in, and why when it did not run."""

    state: str
    reason: str | None = None


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class CheckRuns:
    """The check runs of one run (one RunRecord) on one commit, by stage name."""

    def __init__(
        self, gh: RepoGitHub, record: run_state.RunRecord, sha: str, delivery_id: str
    ) -> None:
        self.gh = gh
        self.record = record
        self.sha = sha
        self.delivery_id = delivery_id

    def external_id(self, stage: str) -> str:
        return f"{self.delivery_id}:{stage}"

    async def create(self, stage: str, body: dict[str, Any]) -> run_state.CreatedStage:
        """The stage's check run, created from `body` unless this run made it already."""
        known = await self.record.stage(stage)
        if known.run_id is not None:
            return run_state.CreatedStage(stage, known.run_id, known.url, known.state)
        if not known.creating:
            await self.record.creating(stage)
        found = await self.gh.create_check_run_once(body, made_before=known.creating)
        await self.record.created(stage, int(found["id"]), str(found["html_url"]))
        return run_state.CreatedStage(stage, int(found["id"]), str(found["html_url"]), "queued")

    async def created(self, stage: str) -> run_state.CreatedStage:
        known = await self.record.stage(stage)
        if known.run_id is None:
            raise RuntimeError(f"stage {stage} of {self.record.key} has no check run")
        return run_state.CreatedStage(stage, known.run_id, known.url, known.state)

    async def start(self, stage: str) -> Ended | None:
        """Mark the stage in progress and return None: it may run now. Otherwise the state it
        already ended in: GitHub shows it completed (its worker died before recording that), or
        its worker was lost too often, and it is now completed as failed."""
        known = await self.created(stage)
        if known.state == "in_progress":
            current = await self.gh.check_run(known.run_id)
            if current["status"] == "completed":
                state = str(current["conclusion"])
                await self.record.set_state(stage, state)
                return Ended(state)
        attempts = await self.record.attempt(stage)
        if attempts > run_state.MAX_STAGE_ATTEMPTS:
            lost = Output(messages.WORKER_LOST_TITLE, messages.worker_lost(attempts - 1))
            return Ended(await self.complete(stage, "failure", lost), WORKER_LOST)
        await self.gh.update_check_run(known.run_id, in_progress_body(now_iso()))
        await self.record.set_state(stage, "in_progress")
        return None

    async def complete(self, stage: str, conclusion: str, output: Output) -> str:
        """Complete the stage's check run; returns the conclusion, now its recorded state."""
        known = await self.created(stage)
        for body in completion_bodies(conclusion, output):
            await self.gh.update_check_run(known.run_id, body)
        await self.record.set_state(stage, conclusion)
        return conclusion

    async def fail_unfinished(self, error: Exception) -> None:
        """Fail every check run this run left unfinished, naming the error's kind (best effort:
        GitHub may be what failed)."""
        kind = type(error).__name__
        reason = Output(messages.INTERNAL_ERROR_TITLE, messages.internal_error(kind))
        for stage in await self.record.unfinished():
            try:
                await self.complete(stage.name, "failure", reason)
            except Exception:
                log.exception("could not fail check run %s of %s", stage.run_id, self.record.key)
