"""The CI pipeline of one commit: plan the matrix, report each stage as a check run, run them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from redis.asyncio import Redis
from redis.exceptions import LockError

from core.settings import Settings
from workers import messages, progress, summary
from workers.check_output import (
    CHECK_PREFIX,
    cancelled_body,
    completed_bodies,
    conclusion,
    failure_body,
    in_progress_body,
    queued_body,
    skipped_body,
)
from workers.checkout import CheckoutError, Workspace
from workers.envcache import EnvError, activate, ensure_env
from workers.matrix import Matrix, MatrixError, load_matrix
from workers.planner import PlannedStage, after_failure, plan
from workers.report import PullInfo, Reporter, reporter, task_retry_delay
from workers.scrub import scrub
from workers.sources import (
    MATRIX_PATH,
    ci_extras,
    clone_url,
    env_cache_root,
    log_dir,
    stage_env,
    workspace_root,
)
from workers.stage_runner import run_stage

log = logging.getLogger(__name__)

MATRIX_STAGE: Final = "matrix"
SCHEDULED: Final = frozenset({"nightly", "weekly"})


@dataclass(frozen=True)
class Request:
    """One run of the matrix for one commit, as a task asks for it."""

    installation_id: int
    repo: str
    sha: str
    # The delivery (or schedule tick) that asked: a redelivered task resumes the same run, a new
    # request (a re-run, /retest) makes fresh check runs.
    delivery_id: str
    pr_number: int | None = None
    trigger: str = "pr"
    only: str | None = None  # one stage, for /retest <stage> and a check run's Re-run
    default_branch: str | None = None  # where the matrix is read when there is no pull request

    @property
    def key(self) -> str:
        return f"{self.repo}:{self.sha}:{self.delivery_id}"


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def is_blocking_failure(planned: PlannedStage, state: str | None) -> bool:
    return planned.stage.blocking and state in summary.FAILED


Make = Callable[[Settings, Redis, Reporter, Request], "Pipeline"]


async def run(
    settings: Settings,
    task: str,
    kwargs: dict[str, Any],
    request: Request,
    make: Make | None = None,
    *,
    last_try: bool = False,
) -> None:
    """Run (or resume) the pipeline under its lease; progress.LeaseHeld if another copy holds it.
    `task` and `kwargs` say how to start it again if this worker dies. When the error will not
    be retried, every unfinished check run is completed as failed, never left running."""
    redis = Redis.from_url(settings.redis_url)
    try:
        async with (
            reporter(settings, request.installation_id, request.repo) as gh,
            progress.lease(redis, request.key, task, kwargs),
        ):
            runner = (make or Pipeline)(settings, redis, gh, request)
            try:
                await runner.run()
            except Exception as exc:
                if last_try or task_retry_delay(exc, 0) is None:
                    await runner.abandon(exc)
                raise
    finally:
        await redis.aclose()


class Pipeline:
    """Runs the planned stages in order, recording each step before moving on."""

    def __init__(self, settings: Settings, redis: Redis, gh: Reporter, request: Request) -> None:
        self.settings = settings
        self.gh = gh
        self.request = request
        self.record = progress.RunRecord(redis, request.key)
        self.pull_state = (
            progress.PullState(redis, request.repo, request.pr_number)
            if request.pr_number is not None
            else None
        )
        self.workspace = Workspace(workspace_root(settings), clone_url(settings, request.repo))
        self._prepared: tuple[Path, dict[str, str]] | None = None

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

    async def abandon(self, error: Exception) -> None:
        """Fail the run's unfinished check runs with the error's kind (best effort: GitHub may be
        what failed)."""
        reason = messages.internal_error(type(error).__name__)
        for stage in await self.record.unfinished():
            try:
                body = failure_body(messages.INTERNAL_ERROR_TITLE, reason)
                await self.gh.update_check_run(stage.run_id, body)
                await self.record.set_state(stage.name, "failure")
            except Exception:
                log.exception("could not fail check run %s of %s", stage.run_id, self.request.key)
        await self.record.finish()

    async def _alert_oncall(self, branch: str | None) -> None:
        """A failed scheduled run is told to on-call in the configured issue, once."""
        issue = self.settings.oncall_issue
        if self.request.trigger not in SCHEDULED or issue is None:
            return
        failed = [
            (name, url)
            for name, (state, url) in (await self.record.states()).items()
            if state in summary.FAILED
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

    async def _matrix(self, branch: str | None) -> Matrix | None:
        """The matrix of the default branch, or None after reporting why it cannot be used."""
        if branch is None:
            error = f"{MATRIX_PATH}:1: the repository's default branch is unknown"
            branch = "unknown"
        else:
            token = await self.gh.token()
            try:
                text = await asyncio.to_thread(
                    self.workspace.read_file_at, branch, MATRIX_PATH, token
                )
                return load_matrix(text, MATRIX_PATH)
            except FileNotFoundError:
                error = f"{MATRIX_PATH}:1: the file does not exist on the default branch"
            except CheckoutError as exc:
                # Re-running the failed check run tries again (e.g. after a network outage).
                error = f"{MATRIX_PATH}:1: cannot fetch {branch}: {scrub(str(exc), [token])}"
            except MatrixError as exc:
                error = str(exc)
        log.warning("pipeline %s: %s", self.request.key, error)
        external_id = self._external_id(MATRIX_STAGE)
        body = messages.matrix_error_body(
            CHECK_PREFIX + MATRIX_STAGE, self.request.sha, external_id, error, branch
        )
        run = await self._create_run(MATRIX_STAGE, body)
        await self.record.set_state(MATRIX_STAGE, "failure")
        await self._row(MATRIX_STAGE, "failure", run["html_url"], -1)
        return None

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
        return plan(matrix, request.trigger, changed, only=request.only)

    def _external_id(self, stage: str) -> str:
        return f"{self.request.delivery_id}:{stage}"

    async def _create_run(self, stage: str, body: dict[str, Any]) -> dict[str, Any]:
        """Create the stage's check run once, even across a crash between the create and the
        record of it (the run is then found on GitHub by its external id)."""
        known = await self.record.stage(stage)
        if known.run_id is not None:
            return {"id": known.run_id, "html_url": known.url}
        found = None
        if known.creating:
            found = await self.gh.find_check_run(
                self.request.sha, CHECK_PREFIX + stage, self._external_id(stage)
            )
        if found is None:
            await self.record.creating(stage)
            found = await self.gh.create_check_run(body)
        await self.record.created(stage, int(found["id"]), str(found["html_url"]))
        return found

    async def _create(self, planned: list[PlannedStage]) -> None:
        """Every planned stage's check run, queued, before any of them runs."""
        for p in planned:
            name = p.stage.name
            body = queued_body(name, self.request.sha, self._external_id(name))
            run = await self._create_run(name, body)
            if (await self.record.stage(name)).state == "queued":
                await self._row(name, "queued", run["html_url"], p.stage.order)

    async def _run_stages(self, planned: list[PlannedStage]) -> None:
        cancelled: dict[str, str] = {}
        failed = False
        for index, p in enumerate(planned):
            name = p.stage.name
            state = (await self.record.stage(name)).state
            if state not in progress.FINAL_STATES:
                newest = await self.pull_state.head() if self.pull_state else None
                if newest is not None and newest != self.request.sha:
                    await self._cancel(planned[index:], f"superseded by {newest}")
                    return
                if p.skip_reason is not None:
                    state = await self._complete(p, skipped_body(p.skip_reason), "skipped")
                elif name in cancelled:
                    reason = cancelled[name]
                    state = await self._complete(p, cancelled_body(reason), "cancelled", reason)
                else:
                    state = await self._run_one(p)
            if not failed and is_blocking_failure(p, state):
                failed = True
                rest = after_failure(planned[index + 1 :], name)
                cancelled = {q.stage.name: reason for q, reason in rest if reason is not None}

    async def _cancel(
        self, planned: list[PlannedStage], reason: str, *, created_only: bool = False
    ) -> None:
        for p in planned:
            known = await self.record.stage(p.stage.name)
            if known.state in progress.FINAL_STATES or (created_only and known.run_id is None):
                continue
            await self._complete(p, cancelled_body(reason), "cancelled", reason)

    async def _complete(
        self, p: PlannedStage, body: dict[str, Any], state: str, reason: str | None = None
    ) -> str:
        known = await self._created(p.stage.name)
        await self.gh.update_check_run(known.run_id, body)
        await self.record.set_state(p.stage.name, state)
        await self._row(p.stage.name, state, known.url, p.stage.order, reason)
        await self.publish()
        return state

    async def _created(self, stage: str) -> progress.CreatedStage:
        known = await self.record.stage(stage)
        if known.run_id is None:
            raise RuntimeError(f"stage {stage} of {self.request.key} has no check run")
        return progress.CreatedStage(stage, known.run_id, known.url, known.state)

    async def _run_one(self, p: PlannedStage) -> str:
        stage = p.stage
        known = await self._created(stage.name)
        if known.state == "in_progress":
            # A worker died in this stage (or after completing it, before recording that).
            current = await self.gh.check_run(known.run_id)
            if current["status"] == "completed":
                state = str(current["conclusion"])
                await self.record.set_state(stage.name, state)
                await self._row(stage.name, state, known.url, stage.order)
                return state
        attempts = await self.record.attempt(stage.name)
        if attempts > progress.MAX_STAGE_ATTEMPTS:
            body = failure_body(messages.WORKER_LOST_TITLE, messages.worker_lost(attempts - 1))
            return await self._complete(p, body, "failure", "worker lost")
        await self.gh.update_check_run(known.run_id, in_progress_body(now_iso()))
        await self.record.set_state(stage.name, "in_progress")
        await self._row(stage.name, "in_progress", known.url, stage.order)
        await self.publish()
        try:
            workdir, env = await self.prepare()
        except (CheckoutError, EnvError) as exc:
            body = failure_body(messages.PREPARE_FAILED, scrub(str(exc)))
            return await self._complete(p, body, "failure", messages.PREPARE_FAILED)
        result = await asyncio.to_thread(run_stage, stage, workdir, self.logs(), env)
        for body in completed_bodies(stage, result, [await self.gh.token()]):
            await self.gh.update_check_run(known.run_id, body)
        state = conclusion(stage, result)
        await self.record.set_state(stage.name, state)
        await self._row(stage.name, state, known.url, stage.order)
        await self.publish()
        return state

    def logs(self) -> Path:
        request = self.request
        return log_dir(self.settings, request.repo, request.sha, request.delivery_id)

    async def prepare(self) -> tuple[Path, dict[str, str]]:
        """The checkout at the SHA and the environment its stages run with: the project's
        dependencies from a virtualenv cached by the hash of what declares them."""
        if self._prepared is None:
            token = await self.gh.token()
            workdir = await asyncio.to_thread(self.workspace.checkout, self.request.sha, token)
            venv = await asyncio.to_thread(
                ensure_env, workdir, env_cache_root(self.settings), ci_extras(workdir)
            )
            self._prepared = (workdir, activate(venv, stage_env()))
        return self._prepared

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

    async def _publish(self, state: progress.PullState, number: int, note: str | None) -> None:
        """Render from Redis and post only if GitHub does not already show exactly that."""
        head = await state.head() or self.request.sha
        body = summary.render(head, await state.rows(head), note)
        comment_id, digest = await state.comment()
        if digest == progress.digest(body):
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
            if mine and str(comment.get("body", "")).startswith(summary.MARKER):
                return int(comment["id"])
        return None
