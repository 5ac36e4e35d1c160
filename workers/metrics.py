"""The worker's metrics: jobs, stage runs, deploy steps and traffic flips.

One set per process: a task runs in a pool process and a stage or a deploy step deep inside it,
so the set is made once, on first use (after `deploybot worker` has chosen to share it; see
core/telemetry.py), not passed through every layer on the way.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from celery.exceptions import Retry
from prometheus_client import CollectorRegistry, Counter, Histogram

from core.telemetry import quietly

# Seconds: jobs and stages run from milliseconds (a record) to the stage timeout (an hour).
LONG_BUCKETS: Final = (0.05, 0.25, 1.0, 5.0, 15.0, 60.0, 180.0, 600.0, 1800.0, 3600.0)
# A deploy step: the switch itself takes milliseconds, the bake minutes.
STEP_BUCKETS: Final = (0.005, 0.05, 0.25, 1.0, 2.5, 5.0, 15.0, 60.0, 300.0, 900.0)


class WorkerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.jobs = Counter(
            "deploybot_jobs",
            "Tasks run, by task and outcome (succeeded, retried, failed).",
            ["task", "outcome"],
            registry=self.registry,
        )
        self.job_seconds = Histogram(
            "deploybot_job_seconds",
            "How long one try of a task took.",
            ["task"],
            buckets=LONG_BUCKETS,
            registry=self.registry,
        )
        self.stage_seconds = Histogram(
            "deploybot_stage_seconds",
            "How long a stage of the CI matrix or a release ran, by stage and conclusion.",
            ["stage", "conclusion"],
            buckets=LONG_BUCKETS,
            registry=self.registry,
        )
        self.deploy_step_seconds = Histogram(
            "deploybot_deploy_step_seconds",
            "How long a step of a deploy or rollback took, by environment, step and result.",
            ["environment", "step", "result"],
            buckets=STEP_BUCKETS,
            registry=self.registry,
        )
        self.flips = Counter(
            "deploybot_flips",
            "Traffic switched between colours: by a deploy or a rollback, or flipped back.",
            ["environment", "kind"],
            registry=self.registry,
        )

    @contextmanager
    def job(self, task: str) -> Iterator[None]:
        started = time.monotonic()
        outcome = "failed"
        try:
            yield
            outcome = "succeeded"
        except Retry:
            outcome = "retried"
            raise
        finally:
            took = time.monotonic() - started
            quietly(lambda: self.jobs.labels(task, outcome).inc())
            quietly(lambda: self.job_seconds.labels(task).observe(took))

    def stage(self, stage: str, conclusion: str, seconds: float) -> None:
        quietly(lambda: self.stage_seconds.labels(stage, conclusion).observe(seconds))

    def deploy_step(
        self, environment: str, run: str, step: str, result: str, seconds: float
    ) -> None:
        """A step that ended (`result` done or failed); a flip or flip-back that succeeded moved
        traffic."""
        quietly(lambda: self.deploy_step_seconds.labels(environment, step, result).observe(seconds))
        if result == "done" and step in {"flip", "flip-back"}:
            kind = run if step == "flip" else step
            quietly(lambda: self.flips.labels(environment, kind).inc())


@functools.cache
def worker_metrics() -> WorkerMetrics:
    return WorkerMetrics()
