"""The worker's Celery app: every task the receiver sends, plus schedules and crash recovery."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any, Final

from celery import Celery, Task
from celery.schedules import crontab
from celery.signals import worker_ready
from redis import Redis
from redis.asyncio import Redis as AsyncRedis

from core import task_names
from core.celery_app import make_celery
from core.settings import Settings
from workers import commands, pipeline, progress, records
from workers.release import RELEASE_STAGE, Release
from workers.report import Reporter, task_retry_delay

log = logging.getLogger(__name__)

# Worker-internal tasks (the receiver never sends these).
RECOVER: Final = "workers.recover"
SCHEDULED: Final = "workers.schedule.run"
RECOVER_EVERY_S: Final = 60.0
MAX_TASK_RETRIES: Final = 8


def cron(expression: str) -> crontab:
    minute, hour, day_of_month, month_of_year, day_of_week = expression.split()
    return crontab(
        minute=minute,
        hour=hour,
        day_of_week=day_of_week,
        day_of_month=day_of_month,
        month_of_year=month_of_year,
    )


def beat_schedule(settings: Settings) -> dict[str, dict[str, Any]]:
    """Nightly and weekly runs of the matrix on each default branch, and the recovery sweep."""
    return {
        "nightly": {
            "task": SCHEDULED,
            "schedule": cron(settings.nightly_cron),
            "kwargs": {"trigger": "nightly"},
        },
        "weekly": {
            "task": SCHEDULED,
            "schedule": cron(settings.weekly_cron),
            "kwargs": {"trigger": "weekly"},
        },
        "recover": {"task": RECOVER, "schedule": RECOVER_EVERY_S},
    }


def _run(task: Task[Any, Any], work: Coroutine[Any, Any, None]) -> None:
    """Run the task's coroutine; retry later on a GitHub 5xx or secondary rate limit, and while
    another copy of the same run holds its lease (it finishes the run, or dies and this copy
    takes over once the lease lapses)."""
    try:
        asyncio.run(work)
    except progress.LeaseHeld as exc:
        log.info("%s: run %s is held by another worker; checking again later", task.name, exc)
        raise task.retry(countdown=progress.LEASE_TTL_S + 1, max_retries=None) from exc
    except Exception as exc:
        delay = task_retry_delay(exc, task.request.retries)
        if delay is None or task.request.retries >= MAX_TASK_RETRIES:
            raise
        log.warning("%s: %s; retrying in %s s", task.name, exc, delay)
        raise task.retry(exc=exc, countdown=delay) from exc


def create_worker_app(settings: Settings | None = None) -> Celery:
    """The Celery app with every task of core.task_names and the worker's own ones registered."""
    settings = settings or Settings.from_env()
    app = make_celery(settings)
    app.conf.task_routes = {name: {"queue": queue} for name, queue in task_names.QUEUE_OF.items()}
    app.conf.beat_schedule = beat_schedule(settings)

    def send(name: str, kwargs: dict[str, Any]) -> None:
        queue = task_names.QUEUE_OF.get(name, task_names.QUEUE_LONG)
        app.send_task(name, kwargs=kwargs, queue=queue, ignore_result=True)

    def task(name: str) -> Callable[[Callable[..., None]], Any]:
        return app.task(name=name, bind=True, ignore_result=True, shared=False)

    @functools.cache
    def redis() -> Redis:
        return Redis.from_url(settings.redis_url)

    def run_pipeline(
        task: Task[Any, Any], request: pipeline.Request, make: pipeline.Make | None = None
    ) -> None:
        last_try = task.request.retries >= MAX_TASK_RETRIES
        kwargs = dict(task.request.kwargs or {})
        _run(task, pipeline.run(settings, task.name, kwargs, request, make, last_try=last_try))

    @task(task_names.PIPELINE)
    def pipeline_task(
        self: Task[Any, Any],
        *,
        installation_id: int,
        repo: str,
        pr_number: int,
        sha: str,
        delivery_id: str,
    ) -> None:
        request = pipeline.Request(installation_id, repo, sha, delivery_id, pr_number)
        run_pipeline(self, request)

    @task(task_names.RERUN)
    def rerun_task(
        self: Task[Any, Any],
        *,
        installation_id: int,
        repo: str,
        scope: str,
        stage: str | None,
        check_suite_id: int | None,
        check_run_id: int | None,
        sha: str,
        pr_number: int | None,
        delivery_id: str,
    ) -> None:
        if scope == "stage" and stage == RELEASE_STAGE:
            # The release check run's Re-run: the whole release again, as a fresh check run.
            released = records.release_of(redis(), repo, sha)
            if released is not None:
                tag, branch = released
                release(self, installation_id, repo, tag, sha, delivery_id, branch)
                return
        request = pipeline.Request(
            installation_id,
            repo,
            sha,
            delivery_id,
            pr_number,
            # Re-running the failed "matrix" check run means trying the whole pipeline again.
            only=stage if scope == "stage" and stage != pipeline.MATRIX_STAGE else None,
            # Without a pull request to say which branch is the default, use the recorded one.
            default_branch=records.default_branch(redis(), repo) if pr_number is None else None,
        )
        run_pipeline(self, request)

    @task(task_names.RELEASE)
    def release_task(
        self: Task[Any, Any],
        *,
        installation_id: int,
        repo: str,
        tag: str,
        sha: str,
        delivery_id: str,
        default_branch: str | None = None,
    ) -> None:
        release(self, installation_id, repo, tag, sha, delivery_id, default_branch)

    def release(
        task: Task[Any, Any],
        installation_id: int,
        repo: str,
        tag: str,
        sha: str,
        delivery_id: str,
        default_branch: str | None,
    ) -> None:
        branch = default_branch or records.default_branch(redis(), repo)
        records.record_release(redis(), repo, sha, tag, branch)
        request = pipeline.Request(
            installation_id, repo, sha, delivery_id, trigger="release", default_branch=branch
        )
        run_pipeline(task, request, functools.partial(_release, tag=tag))

    @task(SCHEDULED)
    def scheduled_task(self: Task[Any, Any], *, trigger: str) -> None:
        tick = f"{trigger}-{datetime.now(UTC):%Y%m%dT%H%M}"
        for repo, head in records.default_heads(redis()).items():
            send(
                SCHEDULED + ".repo",
                {
                    "installation_id": head["installation_id"],
                    "repo": repo,
                    "sha": head["sha"],
                    "branch": head["branch"],
                    "trigger": trigger,
                    "delivery_id": tick,
                },
            )

    @task(SCHEDULED + ".repo")
    def scheduled_repo_task(
        self: Task[Any, Any],
        *,
        installation_id: int,
        repo: str,
        sha: str,
        branch: str,
        trigger: str,
        delivery_id: str,
    ) -> None:
        request = pipeline.Request(
            installation_id, repo, sha, delivery_id, trigger=trigger, default_branch=branch
        )
        run_pipeline(self, request)

    @task(task_names.COMMAND)
    def command_task(
        self: Task[Any, Any],
        *,
        installation_id: int,
        repo: str,
        pr_number: int,
        comment_id: int,
        sender: str,
        command: str,
        env: str | None,
        sha: str | None,
        stage: str | None,
        delivery_id: str,
    ) -> None:
        request = commands.CommandRequest(
            installation_id, repo, pr_number, comment_id, sender, command, delivery_id, stage
        )
        _run(self, commands.run(settings, request, send))

    @task(task_names.COMMAND_HELP)
    def help_task(
        self: Task[Any, Any],
        *,
        installation_id: int,
        repo: str,
        pr_number: int,
        comment_id: int,
        sender: str,
        message: str,
        delivery_id: str,
    ) -> None:
        request = commands.CommandRequest(
            installation_id, repo, pr_number, comment_id, sender, "help", delivery_id
        )
        _run(self, commands.help_reply(settings, request, message))

    @task(task_names.CHECK_RUN_ACTION)
    def check_run_action_task(
        self: Task[Any, Any],
        *,
        installation_id: int,
        repo: str,
        action: str,
        check_run_id: int,
        sha: str,
        sender: str,
        delivery_id: str,
    ) -> None:
        # Deploy check runs (the only ones with buttons) do not exist yet: nothing can ask this.
        log.warning("check run action %r on %s by %s: not implemented yet", action, repo, sender)

    @task(task_names.RECORD_MERGE)
    def merge_task(
        self: Task[Any, Any],
        *,
        installation_id: int,
        repo: str,
        pr_number: int,
        merge_commit_sha: str,
        base_ref: str,
        delivery_id: str,
    ) -> None:
        records.record_merge(redis(), repo, pr_number, merge_commit_sha, base_ref)

    @task(task_names.RECORD_PUSH)
    def push_task(
        self: Task[Any, Any],
        *,
        installation_id: int,
        repo: str,
        branch: str,
        sha: str,
        delivery_id: str,
    ) -> None:
        records.record_push(redis(), installation_id, repo, branch, sha)

    @task(task_names.RECORD_INSTALLATION)
    def installation_task(
        self: Task[Any, Any], *, installation_id: int, action: str, account: str, delivery_id: str
    ) -> None:
        records.record_installation(redis(), installation_id, action, account)

    @task(RECOVER)
    def recover_task(self: Task[Any, Any]) -> None:
        asyncio.run(_recover(settings, send))

    @worker_ready.connect(weak=False)
    def _recover_after_start(sender: Any, **_: Any) -> None:
        # A run whose worker died just before this one started still holds its lease for up to
        # LEASE_TTL_S: look once it has lapsed.
        if getattr(sender, "app", None) is app:
            app.send_task(
                RECOVER, queue=task_names.QUEUE_DEFAULT, countdown=progress.LEASE_TTL_S + 1
            )

    return app


def _release(
    settings: Settings, redis: AsyncRedis, gh: Reporter, request: pipeline.Request, *, tag: str
) -> Release:
    return Release(settings, redis, gh, request, tag)


async def _recover(settings: Settings, send: Callable[[str, dict[str, Any]], None]) -> None:
    """Start again every run whose worker died (its lease lapsed); each resumes from Redis."""
    redis = AsyncRedis.from_url(settings.redis_url)
    try:
        for key, name, kwargs in await progress.orphans(redis):
            if await progress.claim_resume(redis, key):
                log.warning("run %s lost its worker; starting it again", key)
                send(name, kwargs)
    finally:
        await redis.aclose()


@functools.cache
def _default_app() -> Celery:
    return create_worker_app()


def __getattr__(name: str) -> Celery:
    # `celery --app workers.app:celery_app` builds the app on first use, not at import.
    if name == "celery_app":
        return _default_app()
    raise AttributeError(name)
