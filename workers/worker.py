"""What every worker task shares: the app that carries the settings, registration of a handler
under its contract entry, and running a task's coroutine with retries decided by type."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import inspect
import logging
import typing
from collections.abc import Callable, Coroutine
from typing import Any, Final, Protocol, TypeVar

import redis
from celery import Celery, Task
from redis import Redis

from core import contract
from core.contract import Message
from core.errors import LeaseHeld, RedisUnavailable, TransientError, WaitingTurn
from core.github_app import backoff_s
from core.settings import Settings
from workers.metrics import worker_metrics

log = logging.getLogger(__name__)

MAX_TASK_RETRIES: Final = 8
TASK_BACKOFF_BASE_S: Final = 15.0
# The retry of a task goes through the broker, which may be the Redis that did not answer: the
# send keeps trying for about ten minutes rather than lose the task (kombu's retry policy).
BROKER_PATIENCE: Final = {
    "max_retries": 300,
    "interval_start": 0.5,
    "interval_step": 0.5,
    "interval_max": 2.0,
}

M = TypeVar("M", bound=Message)
# Quoted: Celery's Task is generic to the type checker only.
Handler = Callable[["Task[Any, Any]", M], None]


# Queues a message (the worker app's send).
class Send(Protocol):
    """How a task sends another (with Celery's options, e.g. the task id)."""

    def __call__(self, message: Message, **options: Any) -> None: ...


class WorkerApp(Celery):
    """The worker's Celery app and what its tasks share: the settings and a Redis client."""

    settings: Settings

    def send(self, message: Message, **options: Any) -> None:
        contract.send(self, message, **options)

    @functools.cached_property
    def redis(self) -> Redis:
        return Redis.from_url(self.settings.redis_url)


def app_of(task: Task[Any, Any]) -> WorkerApp:
    app = task.app
    if not isinstance(app, WorkerApp):
        raise TypeError(f"task {task.name} is registered on {app!r}, not on a worker app")
    return app


def register(app: WorkerApp, kind: type[M], handler: Handler[M]) -> None:
    """Register `handler` as the task of `kind`: it accepts exactly the contract's arguments
    (Celery refuses any other at send) and receives them as the typed message."""

    def task(self: Task[Any, Any], /, **kwargs: Any) -> None:
        with worker_metrics().job(kind.NAME):
            handler(self, kind.from_kwargs(kwargs))

    task.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY)]
        + [
            inspect.Parameter(
                field.name,
                inspect.Parameter.KEYWORD_ONLY,
                default=(
                    inspect.Parameter.empty
                    if field.default is dataclasses.MISSING
                    else field.default
                ),
                annotation=typing.get_type_hints(kind)[field.name],
            )
            for field in dataclasses.fields(kind)
        ]
    )
    task.__name__ = handler.__name__
    task.__qualname__ = handler.__qualname__
    task.__module__ = handler.__module__
    task.__doc__ = handler.__doc__
    app.task(name=kind.NAME, bind=True, ignore_result=True, shared=False)(task)


def retry_delay(exc: BaseException, retries: int) -> float | None:
    """How long a task waits before its next try after `exc`, or None if retrying cannot help:
    what the error says (GitHub's retry-after), else exponential backoff from 15 s."""
    if not isinstance(exc, TransientError):
        return None
    if exc.retry_after is not None:
        return exc.retry_after
    return backoff_s(retries + 1, TASK_BACKOFF_BASE_S)


def last_try(task: Task[Any, Any]) -> bool:
    return task.request.retries >= MAX_TASK_RETRIES


def run(task: Task[Any, Any], work: Coroutine[Any, Any, None]) -> None:
    """Run the task's coroutine; retry later on a transient error: a GitHub 5xx or secondary
    rate limit; while another copy of the same run holds its lease (it finishes the run, or
    dies and this copy takes over once the lease lapses); and while a queued deploy waits its
    turn (asked again shortly, holding no worker slot meanwhile)."""
    try:
        _run(work)
    except (LeaseHeld, WaitingTurn) as exc:
        # A wait is no failure: the task is asked again later as the same try (its retries
        # count only errors, so a long wait never uses up the retries a GitHub 5xx needs).
        log.info("%s: %s; asking again in %s s", task.name, exc, exc.retry_after)
        task.signature_from_request(
            countdown=exc.retry_after, retries=task.request.retries
        ).apply_async(retry_policy=BROKER_PATIENCE)
    except TransientError as exc:
        delay = retry_delay(exc, task.request.retries)
        if delay is None or last_try(task):
            raise
        log.warning("%s: %s; retrying in %s s", task.name, exc, delay)
        raise task.retry(exc=exc, countdown=delay, retry_policy=BROKER_PATIENCE) from exc


def _run(work: Coroutine[Any, Any, None]) -> None:
    """The coroutine, with Redis not answering (restarted, unreachable, loading its data) raised
    as the transient error it is, whichever client met it."""
    try:
        asyncio.run(work)
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        raise RedisUnavailable(f"Redis did not answer ({exc.__class__.__name__}: {exc})") from exc
