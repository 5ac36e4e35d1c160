"""A pushed v* tag: run the matrix's release stages, reported as one deploybot/release check run."""

from __future__ import annotations

import asyncio
import logging
from typing import Final

from redis.asyncio import Redis

from core.settings import Settings
from workers import check_output, messages, progress
from workers.check_output import in_progress_body
from workers.checkout import CheckoutError
from workers.envcache import EnvError
from workers.pipeline import Pipeline, Request, now_iso
from workers.planner import after_failure, plan
from workers.report import Reporter
from workers.scrub import scrub
from workers.stage_runner import run_stage

log = logging.getLogger(__name__)

RELEASE_STAGE: Final = "release"


class Release(Pipeline):
    """The release trigger's stages in order on the tagged commit, one check run for all."""

    def __init__(
        self, settings: Settings, redis: Redis, gh: Reporter, request: Request, tag: str
    ) -> None:
        super().__init__(settings, redis, gh, request)
        self.tag = tag

    async def run(self) -> None:
        if await self.record.finished():
            return
        matrix = await self._matrix(self.request.default_branch)
        if matrix is None:
            await self.record.finish()
            return
        body = {
            **check_output.queued_body(
                RELEASE_STAGE, self.request.sha, self._external_id(RELEASE_STAGE)
            ),
            "output": {"title": f"Release {self.tag}", "summary": "Waiting for a worker."},
        }
        await self._create_run(RELEASE_STAGE, body)
        known = await self._created(RELEASE_STAGE)
        if known.state == progress.DONE:
            await self.record.finish()
            return
        attempts = await self.record.attempt(RELEASE_STAGE)
        if attempts > progress.MAX_STAGE_ATTEMPTS:
            reason = messages.worker_lost(attempts - 1)
            failed = check_output.failure_body(messages.WORKER_LOST_TITLE, reason)
            await self.gh.update_check_run(known.run_id, failed)
            await self.record.finish()
            return
        await self.gh.update_check_run(known.run_id, in_progress_body(now_iso()))
        await self.record.set_state(RELEASE_STAGE, "in_progress")
        token = await self.gh.token()
        try:
            workdir, env = await self.prepare()
        except (CheckoutError, EnvError) as exc:
            failed = check_output.failure_body(messages.PREPARE_FAILED, scrub(str(exc), [token]))
            await self.gh.update_check_run(known.run_id, failed)
            await self.record.finish()
            return
        logs = self.logs()
        results: list[tuple[str, str, str]] = []
        annotations: list[dict[str, object]] = []
        cancelled: dict[str, str] = {}
        planned = plan(matrix, "release", None)
        for index, p in enumerate(planned):
            if p.stage.name in cancelled:
                results.append((p.stage.name, "cancelled", cancelled[p.stage.name]))
                continue
            result = await asyncio.to_thread(run_stage, p.stage, workdir, logs, env)
            state = check_output.conclusion(p.stage, result)
            text = check_output.summary(p.stage, result, [token])
            results.append((p.stage.name, state, text))
            annotations += [
                {
                    k: scrub(v, [token]) if isinstance(v, str) else v
                    for k, v in a.to_github().items()
                }
                for a in result.annotations
            ]
            if p.stage.blocking and state in {"failure", "timed_out"} and not cancelled:
                rest = after_failure(planned[index + 1 :], p.stage.name)
                cancelled = {q.stage.name: reason for q, reason in rest if reason is not None}
        for patch in messages.release_bodies(self.tag, results, annotations):
            await self.gh.update_check_run(known.run_id, patch)
        await self.record.set_state(RELEASE_STAGE, progress.DONE)
        await self.record.finish()
        log.info("release %s of %s reported", self.tag, self.request.repo)
