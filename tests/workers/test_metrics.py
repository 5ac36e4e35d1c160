"""A task's try is counted by how it ended: a retry asked of Celery is not a failure."""

from __future__ import annotations

from contextlib import nullcontext

import pytest
from celery.exceptions import Retry

from tests.conftest import counted, worker_samples
from workers.metrics import worker_metrics

JOBS = "deploybot_jobs_total"


@pytest.mark.parametrize(
    ("raised", "outcome"),
    [(None, "succeeded"), (Retry("again in 15 s"), "retried"), (KeyError("sha"), "failed")],
)
def test_each_try_is_counted_once_by_how_it_ended(
    raised: BaseException | None, outcome: str
) -> None:
    task = f"tests.metrics.{outcome}"
    before = worker_samples()
    expected = pytest.raises(type(raised)) if raised else nullcontext()
    with expected, worker_metrics().job(task):
        if raised:
            raise raised
    after = worker_samples()
    for seen in ("succeeded", "retried", "failed"):
        assert counted(before, after, JOBS, task=task, outcome=seen) == (seen == outcome)
    assert counted(before, after, "deploybot_job_seconds_count", task=task) == 1
