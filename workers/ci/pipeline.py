"""The CI pipeline of one commit: plan the matrix, report each stage as a check run, run them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Final

from redis.asyncio import Redis
from redis.exceptions import LockError

from core.contract import Message
from core.errors import TransientError
from core.names import CI_SUMMARY_MARKER
from core.settings import Settings
from workers import run_state
from workers.check_output import Output, cancelled, queued_body, skipped
from workers.checkruns import CheckRuns
from workers.ci import messages, summary
from workers.ci.matrix import Matrix
from workers.ci.planner import FailureCancels, PlannedStage, plan
from workers.ci.pull_state import PullState, digest
from workers.ci.stage_output import conclusion, stage_output
from workers.ci.stages import MATRIX_STAGE, Request, Stages
from workers.conclusions import is_failed
from workers.github import PullInfo, RepoGitHub, repo_github

log = logging.getLogger(__name__)

SCHEDULED: Final = frozenset({"nightly", "weekly"})


class Runner:
    """What `run` drives: a Pipeline, or a Release."""

    runs: CheckRuns

    async def run(self) -> None:
        raise NotImplementedError


Make = Callable[[Settings, Redis, RepoGitHub, Request], Runner]


async def run(
    settings: Settings, message: Message, request: Request, make: Make, *, last_try: bool = False
) -> None:
    """Run (or resume) the request under its lease; LeaseHeld if another copy holds it.
    `message` says how to start it again if this worker dies. When the error will not be
    retried, every unfinished check run is completed as failed, never left running."""
    redis = Redis.from_url(settings.redis_url)
    try:
        async with (
            repo_github(settings, request.installation_id, request.repo) as gh,
            run_state.lease(redis, request.key, message),
        ):
            runner = make(settings, redis, gh, request)
            try:
                await runner.run()
            except Exception as exc:
                if last_try or not isinstance(exc, TransientError):
                    await runner.runs.fail_unfinished(exc)
                    await runner.runs.record.finish()
                raise
    finally:
        await redis.aclose()


class Pipeline(Runner):
    """Runs the planned stages in order, recording each step before moving on."""

    def __init__(self, settings: Settings, redis: Redis, gh: RepoGitHub, request: Request) -> None:
        self.settings = settings
        self.gh = gh
        self.request = request
        self.record = run_state.RunRecord(redis, request.key)
        self.runs = CheckRuns(gh, self.record, request.sha, request.delivery_id)
        self.stages = Stages(settings, self.runs, request)
        self.pull_state = (
            PullState(redis, request.repo, request.pr_number)
            if request.pr_number is not None
            else None
        )

    async def run(self) -> None:
        request = self.request
        if await self.record.finished():
            log.info("pipeline %s already finished", request.key)
            return
        pull = await self.gh.pull(request.pr_number) if request.pr_number is not None else None
        superseded_by = pull.head_sha if pull and pull.head_sha != request.sha else None
        if self.pull_state is not None and superseded_by is None:
            await self.pull_state.set_head(request.sha)
        if pull is not None and superseded_by is None and not await self._may_run(pull):
            await self.publish(messages.OK_TO_TEST_NOTE)
            await self.record.finish()
            return
        branch = pull.default_branch if pull else request.default_branch
        matrix = await self._matrix(branch)
        if matrix is None:
            await self._alert_oncall(branch)
            await self.record.finish()
            return
        planned = await self._plan(matrix, pull)
        if planned is None:
            await self.record.finish()
            return
        if superseded_by is not None:
            await self._cancel(planned, f"superseded by {superseded_by}", created_only=True)
        else:
            await self._create(planned)
            await self.publish()
            await self._run_stages(planned)
            await self._alert_oncall(branch)
        await self.record.finish()
        await self.publish()

    async def _matrix(self, branch: str | None) -> Matrix | None:
        matrix = await self.stages.matrix(branch)
        if matrix is None:
            known = await self.runs.created(MATRIX_STAGE)
            await self._row(MATRIX_STAGE, "failure", known.url, -1)
        return matrix

    async def _alert_oncall(self, branch: str | None) -> None:
        """A failed scheduled run is told to on-call in the configured issue, once."""
        issue = self.settings.oncall_issue
        if self.request.trigger not in SCHEDULED or issue is None:
            return
        failed = [
            (name, url)
            for name, (state, url) in (await self.record.states()).items()
            if is_failed(state)
        ]
        if failed and not await self.record.marked("oncall"):
            text = messages.scheduled_failure(
                self.request.trigger, branch, self.request.sha, failed
            )
            await self.gh.comment(issue, text)
            await self.record.mark("oncall")

    async def _may_run(self, pull: PullInfo) -> bool:
        """Code from a fork runs once someone with write access approved this head commit."""
        if not pull.from_fork:
            return True
        approved = self.pull_state is not None and await self.pull_state.approved(pull.head_sha)
        return approved or await self.gh.can_write(pull.author)

    async def _plan(self, matrix: Matrix, pull: PullInfo | None) -> list[PlannedStage] | None:
        request = self.request
        if request.only is not None and request.only not in {s.name for s in matrix.stages}:
            if request.pr_number is not None:
                known = [s.name for s in matrix.stages]
                await self.gh.comment(
                    request.pr_number, messages.unknown_stage(request.only, known)
                )
            return None
        changed = None
        if pull is not None and request.trigger == "pr" and request.only is None:
            changed = await self.gh.changed_files(pull.number)
        fork = pull is not None and pull.from_fork
        planned = plan(matrix, request.trigger, changed, only=request.only, fork=fork)
        if pull is None and request.trigger == "pr" and not await self._on_default_branch():
            # A re-run from the Checks UI names no pull request for a fork's commit: it gets
            # neither an approval check nor a fork's limits here, so it does not run at all.
            return [PlannedStage(p.stage, messages.NO_PULL_REQUEST) for p in planned]
        return planned

    async def _on_default_branch(self) -> bool:
        branch = self.request.default_branch
        if branch is None:
            return False
        token = await self.gh.token()
        return await asyncio.to_thread(
            self.stages.workspace.contains, branch, self.request.sha, token
        )

    async def _create(self, planned: list[PlannedStage]) -> None:
        """Every planned stage's check run, queued, before any of them runs."""
        for p in planned:
            name = p.stage.name
            body = queued_body(name, self.request.sha, self.runs.external_id(name))
            created = await self.runs.create(name, body)
            if created.state == "queued":
                await self._row(name, "queued", created.url, p.stage.order)

    async def _run_stages(self, planned: list[PlannedStage]) -> None:
        cancels = FailureCancels()
        for index, p in enumerate(planned):
            name = p.stage.name
            state = (await self.record.stage(name)).state
            if state not in run_state.FINAL_STATES:
                newest = await self.pull_state.head() if self.pull_state else None
                if newest is not None and newest != self.request.sha:
                    await self._cancel(planned[index:], f"superseded by {newest}")
                    return
                if p.skip_reason is not None:
                    state = await self._complete(p, "skipped", skipped(p.skip_reason))
                elif (reason := cancels.reason(name)) is not None:
                    state = await self._complete(p, "cancelled", cancelled(reason), reason)
                else:
                    state = await self._run_one(p)
            cancels.after(planned, index, state)

    async def _cancel(
        self, planned: list[PlannedStage], reason: str, *, created_only: bool = False
    ) -> None:
        for p in planned:
            known = await self.record.stage(p.stage.name)
            if known.state in run_state.FINAL_STATES or (created_only and known.run_id is None):
                continue
            await self._complete(p, "cancelled", cancelled(reason), reason)

    async def _complete(
        self, p: PlannedStage, state: str, output: Output, reason: str | None = None
    ) -> str:
        await self.runs.complete(p.stage.name, state, output)
        await self._show(p, state, reason)
        return state

    async def _show(self, p: PlannedStage, state: str, reason: str | None = None) -> None:
        known = await self.runs.created(p.stage.name)
        await self._row(p.stage.name, state, known.url, p.stage.order, reason)
        await self.publish()

    async def _run_one(self, p: PlannedStage) -> str:
        ended = await self.runs.start(p.stage.name)
        if ended is not None:
            await self._show(p, ended.state, ended.reason)
            return ended.state
        await self._show(p, "in_progress")
        prepared = await self.stages.prepared()
        if isinstance(prepared, Output):
            return await self._complete(p, "failure", prepared, messages.PREPARE_FAILED)
        result = await self.stages.run(p.stage, prepared)
        if isinstance(result, Output):
            return await self._complete(p, "failure", result, result.title)
        return await self._complete(p, conclusion(p.stage, result), stage_output(p.stage, result))

    async def _row(
        self, stage: str, state: str, url: str | None, order: int, reason: str | None = None
    ) -> None:
        if self.pull_state is not None:
            row = summary.row(state, url, order, reason)
            await self.pull_state.set_row(self.request.sha, stage, row)

    async def publish(self, note: str | None = None) -> None:
        """Write the PR's summary comment for its newest head: edited in place, one per PR."""
        state, number = self.pull_state, self.request.pr_number
        if state is None or number is None:
            return
        try:
            async with state.lock():
                await self._publish(state, number, note)
        except LockError:
            # Another pipeline holds the comment; the next state change publishes again.
            log.warning(
                "summary comment of %s#%s is busy; not edited now", self.request.repo, number
            )

    async def _publish(self, state: PullState, number: int, note: str | None) -> None:
        """Render from Redis and post only if GitHub does not already show exactly that."""
        head = await state.head() or self.request.sha
        body = summary.render(head, await state.rows(head), note)
        comment_id, posted = await state.comment()
        if posted == digest(body):
            return  # GitHub already shows this; edits count against its rate limits
        comment_id = comment_id or await self._find_summary(number)
        if comment_id is None:
            created = await self.gh.comment(number, body)
            comment_id = int(created["id"])
        else:
            await self.gh.edit_comment(comment_id, body)
        await state.set_comment(comment_id, body)

    async def _find_summary(self, number: int) -> int | None:
        """The summary comment posted before Redis knew it (e.g. Redis was flushed)."""
        async for comment in self.gh.comments(number):
            mine = comment.get("user", {}).get("type") == "Bot"
            if mine and str(comment.get("body", "")).startswith(CI_SUMMARY_MARKER):
                return int(comment["id"])
        return None
