"""Exactly-once under redelivery, and honest failure when the queue is down."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import replace

import httpx
import pytest
import redis
from celery import Celery
from starlette.testclient import TestClient

from bot.app import create_app
from core import contract
from core.celery_app import make_celery
from core.settings import Settings
from testkit.loopback import free_port
from tests.bot.conftest import (
    WEBHOOKS,
    Recorder,
    headers_for,
    serve,
)
from tests.conftest import WorkerFactory

BODY = (WEBHOOKS / "pull_request/synchronize.payload.json").read_bytes()


def test_ten_concurrent_redeliveries_start_exactly_one_job(
    settings: Settings,
    celery_app: Celery,
    recorder: Recorder,
    start_worker: WorkerFactory,
    redis_client: redis.Redis,
) -> None:
    headers = headers_for("pull_request", BODY)
    barrier = threading.Barrier(10)
    answers: list[tuple[int, str]] = []

    def redeliver(base_url: str) -> None:
        with httpx.Client(base_url=base_url) as http:
            barrier.wait()
            response = http.post("/webhook", content=BODY, headers=headers)
            answers.append((response.status_code, response.text))

    with (
        start_worker(celery_app, concurrency=1),
        serve(create_app(settings, celery=celery_app)) as url,
    ):
        threads = [threading.Thread(target=redeliver, args=(url,)) for _ in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        (job,) = recorder.wait(1)
        assert recorder.settle() == []

    assert sorted(status for status, _ in answers) == [200] * 9 + [202]
    assert answers.count((200, "duplicate delivery\n")) == 9
    assert job.task == contract.RunPipeline.NAME
    assert job.kwargs["delivery_id"] == headers["x-github-delivery"]


def dead_settings(settings: Settings) -> Settings:
    return replace(settings, redis_url=f"redis://127.0.0.1:{free_port()}/0")


def test_redis_down_is_a_503_with_a_reason_and_a_log_line(
    settings: Settings,
    make_client: Callable[..., TestClient],
    caplog: pytest.LogCaptureFixture,
) -> None:
    dead = dead_settings(settings)
    client = make_client(dead, make_celery(dead))
    headers = headers_for("pull_request", BODY)
    with caplog.at_level(logging.ERROR, logger="bot.app"):
        response = client.post("/webhook", content=BODY, headers=headers)
    assert response.status_code == 503
    assert response.text.startswith("not queued: queue unavailable (ConnectionError)")
    assert headers["x-github-delivery"] in caplog.text
    assert client.get("/readyz").status_code == 503


def test_a_delivery_whose_push_fails_is_not_claimed_and_can_be_redelivered(
    make_client: Callable[..., TestClient],
    celery_app: Celery,
    recorder: Recorder,
    start_worker: WorkerFactory,
    redis_client: redis.Redis,
) -> None:
    client = make_client()
    headers = headers_for("pull_request", BODY)
    # A queue key of the wrong type makes the push fail inside the claim script.
    redis_client.set(contract.QUEUE_LONG, "not a list")
    refused = client.post("/webhook", content=BODY, headers=headers)
    assert refused.status_code == 503
    assert refused.text.startswith("not queued: queue unavailable (ResponseError)")
    assert redis_client.keys("deploybot:*") == []

    redis_client.delete(contract.QUEUE_LONG)
    with start_worker(celery_app):
        redelivered = client.post("/webhook", content=BODY, headers=headers)
        assert redelivered.status_code == 202
        (job,) = recorder.wait(1)
    assert job.kwargs["delivery_id"] == headers["x-github-delivery"]
