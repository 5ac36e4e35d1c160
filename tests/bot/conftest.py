"""Fixtures for the receiver tests: signed deliveries, the real app, recording Celery tasks."""

from __future__ import annotations

import base64
import json
import queue
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from celery import Celery, Task
from starlette.applications import Starlette
from starlette.testclient import TestClient

from bot.app import create_app
from core import contract
from core.settings import Settings
from testkit.fakegithub import webhooks
from testkit.serving import serve_in_thread
from tests.conftest import WEBHOOK_SECRET

WEBHOOKS = Path(__file__).resolve().parents[1] / "fixtures" / "github" / "webhooks"
QUEUES = contract.QUEUES


def sign(body: bytes, secret: str = WEBHOOK_SECRET) -> str:
    return webhooks.sign(body, secret)


def headers_for(event: str, body: bytes, delivery_id: str | None = None) -> dict[str, str]:
    """The headers GitHub sends with a delivery, correctly signed."""
    return {
        "content-type": "application/json",
        "x-github-event": event,
        "x-github-delivery": delivery_id or str(uuid.uuid4()),
        "x-hub-signature-256": sign(body),
        "user-agent": "GitHub-Hookshot/test",
    }


def example(name: str) -> dict[str, Any]:
    """A payload example by "<event>/<file>"."""
    loaded: dict[str, Any] = json.loads((WEBHOOKS / name).read_text(encoding="utf-8"))
    return loaded


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()


@dataclass(frozen=True)
class Message:
    task: str
    task_id: str
    kwargs: dict[str, Any]


def queued_messages(client: redis.Redis) -> list[Message]:
    """Every message waiting in the broker's queues, decoded from kombu's Redis format."""
    found = []
    for name in QUEUES:
        for raw in client.lrange(name, 0, -1):
            envelope = json.loads(raw)
            _args, kwargs, _embed = json.loads(base64.b64decode(envelope["body"]))
            found.append(Message(envelope["headers"]["task"], envelope["headers"]["id"], kwargs))
    return found


BARRIER = "tests.barrier"


class Recorder:
    """Recording tasks registered under every task name the receiver sends."""

    def __init__(self, app: Celery) -> None:
        self.ran: queue.Queue[Message] = queue.Queue()
        self._app = app
        self._barriers: set[str] = set()
        for name in contract.BY_NAME:
            self._register(app, name)

        @app.task(name=BARRIER, bind=True, shared=False)
        def barrier(task: Task[Any, Any], /) -> None:
            self._barriers.add(str(task.request.id))

    def _register(self, app: Celery, name: str) -> None:
        @app.task(name=name, bind=True, shared=False)
        def record(task: Task[Any, Any], /, **kwargs: Any) -> None:
            self.ran.put(Message(name, str(task.request.id), kwargs))

    def wait(self, count: int, timeout_s: float = 30) -> list[Message]:
        """The first `count` jobs the worker runs (fails the test if they do not come)."""
        got: list[Message] = []
        deadline = time.monotonic() + timeout_s
        while len(got) < count:
            try:
                got.append(self.ran.get(timeout=max(0.01, deadline - time.monotonic())))
            except queue.Empty:
                pytest.fail(f"the worker ran {len(got)} of {count} expected jobs")
        return got

    def settle(self, timeout_s: float = 30) -> list[Message]:
        """Every further job the worker runs before a barrier sent now on each queue. The worker
        must have one slot (`concurrency=1`): it takes one message at a time and acknowledges it
        when done, and each queue gives its messages in the order sent, so once every barrier
        has run, so has everything queued before it."""
        sent = {self._app.send_task(BARRIER, queue=name, ignore_result=True).id for name in QUEUES}
        deadline = time.monotonic() + timeout_s
        while not sent <= self._barriers:
            if time.monotonic() > deadline:
                pytest.fail("the barrier jobs did not run: is the worker's concurrency 1?")
            time.sleep(0.02)
        rest: list[Message] = []
        while not self.ran.empty():
            rest.append(self.ran.get_nowait())
        return rest


@pytest.fixture
def recorder(celery_app: Celery) -> Recorder:
    return Recorder(celery_app)


@pytest.fixture
def make_client(settings: Settings, celery_app: Celery) -> Iterator[Callable[..., TestClient]]:
    """Factory: a TestClient on the real receiver (settings and Celery app overridable)."""
    clients: list[TestClient] = []

    def make(settings_: Settings | None = None, celery: Celery | None = None) -> TestClient:
        client = TestClient(create_app(settings_ or settings, celery=celery or celery_app))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


@contextmanager
def serve(app: Starlette) -> Iterator[str]:
    """Run `app` under a real uvicorn server on 127.0.0.1; yields its base URL."""
    with serve_in_thread(app, "receiver") as url:
        yield url
