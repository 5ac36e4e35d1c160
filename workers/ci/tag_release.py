"""A pushed v* tag: run the matrix's release stages, reported as one deploybot/release check run."""

from __future__ import annotations

import logging
from typing import Final

from redis.asyncio import Redis

from core.settings import Settings
from workers import releasing, run_state
from workers.check_output import Output, cancelled, queued_body
from workers.checkruns import CheckRuns
from workers.ci import messages
from workers.ci.matrix import Matrix
from workers.ci.pipeline import Runner
from workers.ci.planner import FailureCancels, plan
from workers.ci.stage_output import conclusion, stage_output
from workers.ci.stages import Request, Stages
from workers.github import RepoGitHub

log = logging.getLogger(__name__)

RELEASE_STAGE: Final = "release"
# The check run of the release's build, stage and gate (deploy/release.py), after its stages.
GATE_STAGE: Final = "gate"


class Release(Runner):
    """The release trigger's stages in order on the tagged commit, one check run for all."""

    def __init__(
        self,
        settings: Settings,
        redis: Redis,
        gh: RepoGitHub,
        request: Request,
        tag: str,
        sender: str,
    ) -> None:
        self.settings = settings
        self.request = request
        self.tag = tag
        self.sender = sender
        self.record = run_state.RunRecord(redis, request.key)
        self.runs = CheckRuns(gh, self.record, request.sha, request.delivery_id)
        self.stages = Stages(settings, self.runs, request)

    async def run(self) -> None:
        if not await self.record.finished():
            await self._run()
            await self.record.finish()

    async def _run(self) -> None:
        matrix = await self.stages.matrix(self.request.default_branch)
        if matrix is None:
            return
        if await self._stages(matrix) == "success":
            await self._gate()

    async def _stages(self, matrix: Matrix) -> str | None:
        """The release stages as one check run; the state it ended in (now or before)."""
        body = queued_body(RELEASE_STAGE, self.request.sha, self.runs.external_id(RELEASE_STAGE))
        body["output"] = {"title": f"Release {self.tag}", "summary": "Waiting for a worker."}
        created = await self.runs.create(RELEASE_STAGE, body)
        if created.state in run_state.FINAL_STATES:
            return created.state
        ended = await self.runs.start(RELEASE_STAGE)
        if ended is not None:
            return ended.state
        prepared = await self.stages.prepared()
        if isinstance(prepared, Output):
            return await self.runs.complete(RELEASE_STAGE, "failure", prepared)
        results: list[tuple[str, str, Output]] = []
        cancels = FailureCancels()
        planned = plan(matrix, "release", None)
        for index, p in enumerate(planned):
            reason = cancels.reason(p.stage.name)
            if reason is not None:
                results.append((p.stage.name, "cancelled", cancelled(reason)))
                continue
            result = await self.stages.run(p.stage, prepared)
            if isinstance(result, Output):
                state, output = "failure", result
            else:
                state, output = conclusion(p.stage, result), stage_output(p.stage, result)
            results.append((p.stage.name, state, output))
            cancels.after(planned, index, state)
        state, output = messages.release_output(self.tag, results)
        log.info("release %s of %s: stages %s", self.tag, self.request.repo, state)
        return await self.runs.complete(RELEASE_STAGE, state, output)

    async def _gate(self) -> None:
        """Build, stage and gate the tagged commit, reported as the deploybot/gate check run."""
        body = queued_body(GATE_STAGE, self.request.sha, self.runs.external_id(GATE_STAGE))
        body["output"] = {"title": f"Gate for {self.tag}", "summary": "Waiting for a worker."}
        created = await self.runs.create(GATE_STAGE, body)
        if created.state in run_state.FINAL_STATES or await self.runs.start(GATE_STAGE):
            return
        wanted = releasing.Wanted(self.request.repo, self.request.sha, "tag", self.sender)
        state, output = await releasing.checked(self.settings, self.stages.workspace, wanted)
        await self.runs.complete(GATE_STAGE, state, output)
        log.info("release %s of %s: gate %s", self.tag, self.request.repo, state)
