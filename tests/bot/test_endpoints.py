"""Health, readiness, metrics, and refusing to start without a webhook secret."""

from __future__ import annotations

from dataclasses import replace

import pytest
from celery import Celery
from starlette.testclient import TestClient

from bot.app import create_app, create_listeners
from core.errors import ConfigError
from core.settings import Settings
from tests.bot.conftest import WEBHOOKS, headers_for
from tests.conftest import metric_samples, sample


def test_no_secret_no_receiver(settings: Settings) -> None:
    with pytest.raises(ConfigError, match="WEBHOOK_SECRET"):
        create_app(replace(settings, webhook_secret=None))


def test_health_and_readiness(client: TestClient) -> None:
    assert (client.get("/healthz").status_code, client.get("/healthz").text) == (200, "ok\n")
    assert (client.get("/readyz").status_code, client.get("/readyz").text) == (200, "ready\n")


def test_metrics_count_deliveries_by_event_and_outcome_on_the_status_listener_only(
    settings: Settings, celery_app: Celery
) -> None:
    listeners = create_listeners(settings, celery=celery_app)
    with TestClient(listeners.receiver) as client, TestClient(listeners.status) as status:
        _metrics_counted(client, status)


def _metrics_counted(client: TestClient, status: TestClient) -> None:
    assert client.get("/metrics").status_code == 404  # the webhook's port faces the internet
    body = (WEBHOOKS / "pull_request/synchronize.payload.json").read_bytes()
    headers = headers_for("pull_request", body)
    client.post("/webhook", content=body, headers=headers)
    client.post("/webhook", content=body, headers=headers)
    client.post("/webhook", content=body, headers={**headers, "x-hub-signature-256": "sha256=0"})
    ping = (WEBHOOKS / "ping/payload.json").read_bytes()
    client.post("/webhook", content=ping, headers=headers_for("ping", ping))

    response = status.get("/metrics")

    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    found = metric_samples(response.text)
    delivered = "deploybot_webhook_deliveries_total"
    assert sample(found, delivered, event="pull_request", outcome="queued") == 1
    assert sample(found, delivered, event="pull_request", outcome="duplicate delivery") == 1
    assert sample(found, delivered, event="unverified", outcome="rejected 401") == 1
    assert sample(found, delivered, event="ping", outcome="pong") == 1
    assert sample(found, "deploybot_webhook_enqueue_seconds_bucket", le="+Inf") == 2
    assert sample(found, "deploybot_webhook_enqueue_seconds_count") == 2
