"""The Celery app object, built by a factory so that importing it touches no broker."""

from __future__ import annotations

from typing import TypeVar

from celery import Celery
from kombu import Queue

from core import contract
from core.settings import Settings

# Longer than the longest task we run (a deploy with a 10-minute bake plus stages), so Redis never
# redelivers a task that is still running under acks_late.
VISIBILITY_TIMEOUT_S = 3 * 3600

App = TypeVar("App", bound=Celery)


def make_celery(settings: Settings, *, name: str = "deploybot") -> Celery:
    """The app the receiver sends tasks through (by name, routed by the contract)."""
    return configure(Celery(name, set_as_current=False), settings)


def configure(app: App, settings: Settings) -> App:
    """Broker, serialisation, acknowledgement and queues as every deploybot process needs them."""
    app.conf.update(
        broker_url=settings.redis_url,
        result_backend=settings.redis_url,
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        result_expires=24 * 3600,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT_S},
        result_backend_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT_S},
        broker_connection_retry_on_startup=True,
        task_default_queue=contract.QUEUE_DEFAULT,
        task_queues=[Queue(name) for name in contract.QUEUES],
        task_routes=contract.routes(),
        worker_hijack_root_logger=False,
    )
    return app
