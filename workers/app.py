"""The worker's Celery app: the factory builds it, its beat schedule, and registers the tasks."""

from __future__ import annotations

import functools
from typing import Any, Final

from celery import Celery
from celery.schedules import crontab
from celery.signals import worker_ready

from core import contract
from core.celery_app import configure
from core.settings import Settings
from workers import run_state
from workers.tasks import ci, comments, deploys, records, recover, schedule, tags
from workers.worker import Handler, WorkerApp, register

RECOVER_EVERY_S: Final = 60.0

# Each task of the contract and the module-level function that runs it.
TASKS: Final[dict[type[contract.Message], Handler[Any]]] = {
    contract.RunPipeline: ci.run_pipeline,
    contract.Rerun: ci.rerun,
    contract.RunRelease: tags.run_release,
    contract.RunCommand: comments.run_command,
    contract.CommandHelp: comments.post_help,
    contract.CheckRunAction: deploys.roll_back_button,
    contract.RunDeploy: deploys.run,
    contract.FailedOver: deploys.failed_over,
    contract.RecordPush: records.push,
    contract.Recover: recover.recover,
    contract.Scheduled: schedule.fan_out,
    contract.ScheduledRepo: schedule.run_repo,
}


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
            "task": contract.Scheduled.NAME,
            "schedule": cron(settings.nightly_cron),
            "kwargs": contract.Scheduled(trigger="nightly").kwargs(),
        },
        "weekly": {
            "task": contract.Scheduled.NAME,
            "schedule": cron(settings.weekly_cron),
            "kwargs": contract.Scheduled(trigger="weekly").kwargs(),
        },
        "recover": {"task": contract.Recover.NAME, "schedule": RECOVER_EVERY_S},
    }


def create_worker_app(settings: Settings | None = None) -> WorkerApp:
    """The Celery app with every task of the contract registered."""
    settings = settings or Settings.from_env()
    app = configure(WorkerApp("deploybot", set_as_current=False), settings)
    app.settings = settings
    app.conf.beat_schedule = beat_schedule(settings)
    for kind, handler in TASKS.items():
        register(app, kind, handler)

    @worker_ready.connect(weak=False)
    def _recover_after_start(sender: Any, **_: Any) -> None:
        # A run whose worker died just before this one started still holds its lease for up to
        # LEASE_TTL_S: look once it has lapsed.
        if getattr(sender, "app", None) is app:
            app.send(contract.Recover(), countdown=run_state.LEASE_TTL_S + 1)

    return app


@functools.cache
def _default_app() -> Celery:
    return create_worker_app()


def __getattr__(name: str) -> Celery:
    # `celery --app workers.app:celery_app` builds the app on first use, not at import.
    if name == "celery_app":
        return _default_app()
    raise AttributeError(name)
