"""The receiver's HTTP shell, on two listeners: the one GitHub reaches (POST /webhook, health,
readiness; `create_app` is it alone, for uvicorn --factory) and the status one (/metrics, and the
status page deploybot adds), which shows commits, pull requests and user names and so stays off
the internet."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from celery import Celery
from gidgethub import sansio
from prometheus_client.registry import Collector
from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot import verify
from bot.delivery import Enqueuer
from bot.intake import Budget, read_body
from bot.jobs import Context, Ignore, Job, Plan
from bot.metrics import WebMetrics
from bot.routes import router
from core import telemetry
from core.celery_app import make_celery
from core.errors import PayloadError, QueueUnavailable
from core.settings import Settings

log = logging.getLogger(__name__)
REDIS_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class Answer:
    """What a delivery gets: status, the outcome counted in /metrics, and a one-line text."""

    status: int
    outcome: str
    text: str
    headers: dict[str, str] = field(default_factory=dict)


class Receiver:
    """Request handlers around one verified, deduplicated enqueue per delivery."""

    def __init__(
        self, settings: Settings, redis: Redis, celery: Celery, computed: Sequence[Collector]
    ) -> None:
        self.settings = settings
        self.secret = settings.require_webhook_secret()
        self.redis = redis
        self.enqueuer = Enqueuer(redis, celery)
        self.metrics = WebMetrics()
        self.computed = computed
        self.budget = Budget()

    async def webhook(self, request: Request) -> Response:
        event_name = "unverified"
        try:
            verify.check_headers(request.headers)
            body = await read_body(request, self.budget)
            event = verify.parse_event(request.headers, body, self.secret)
            event_name = event.event
            answer = await self._act(event)
        except verify.Rejected as rejected:
            answer = Answer(
                rejected.status, f"rejected {rejected.status}", rejected.reason, rejected.headers
            )
            log.info("webhook rejected (%s): %s", answer.status, answer.text)
        self.metrics.delivery(event_name, answer.outcome)
        return PlainTextResponse(
            answer.text + "\n", status_code=answer.status, headers=answer.headers
        )

    async def _act(self, event: sansio.Event) -> Answer:
        event_name, delivery_id = event.event, event.delivery_id
        plan = Plan()
        action = event.data.get("action")
        try:
            await router.dispatch(event, plan, Context(self.settings, datetime.now(UTC)))
        except PayloadError as exc:
            raise verify.Rejected(422, f"payload unusable: {exc}") from None
        decision = plan.outcome(event_name, action if isinstance(action, str) else None)
        if isinstance(decision, Ignore):
            return Answer(202, "ignored", f"ignored: {decision.reason}")
        if not isinstance(decision, Job):
            return Answer(200, "pong", "pong")
        started = time.perf_counter()
        try:
            accepted = await self.enqueuer.accept(delivery_id, decision)
        except QueueUnavailable as exc:
            log.error("delivery %s (%s) not queued: %s", delivery_id, event_name, exc)
            return Answer(503, "unavailable", f"not queued: {exc}; redeliver once it is back")
        self.metrics.enqueue_seconds(time.perf_counter() - started)
        if accepted.task_id is None:
            return Answer(200, accepted.outcome, accepted.outcome)
        log.info(
            "delivery %s (%s) queued %s as %s",
            delivery_id,
            event_name,
            decision.message.NAME,
            accepted.task_id,
        )
        text = f"queued {decision.message.NAME} {accepted.task_id}"
        return Answer(202, "queued", text)

    async def readyz(self, request: Request) -> Response:
        try:
            await self.redis.ping()
        except RedisError as exc:
            return PlainTextResponse(
                f"redis unreachable ({exc.__class__.__name__})\n", status_code=503
            )
        return PlainTextResponse("ready\n")

    async def metrics_text(self, request: Request) -> Response:
        # Off the event loop: the shared files and the computed figures are read from disk.
        text = await asyncio.to_thread(telemetry.exposition, self.metrics.registry, self.computed)
        return Response(text, media_type=telemetry.CONTENT_TYPE)


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok\n")


@dataclass(frozen=True)
class Listeners:
    """The receiver's two apps: `receiver` for the internet, `status` for the operator."""

    receiver: Starlette
    status: Starlette


def create_app(settings: Settings | None = None, *, celery: Celery | None = None) -> Starlette:
    """The receiver GitHub reaches (its /metrics is served by `create_listeners`' status app)."""
    return create_listeners(settings, celery=celery).receiver


def create_listeners(
    settings: Settings | None = None,
    *,
    celery: Celery | None = None,
    computed: Sequence[Collector] = (),
) -> Listeners:
    """The receiver and its status listener; refuses to build without DEPLOYBOT_WEBHOOK_SECRET.
    Touches no network. `computed` adds figures worked out at each scrape to /metrics."""
    settings = settings or Settings.from_env()
    redis = Redis.from_url(
        settings.redis_url, socket_timeout=REDIS_TIMEOUT_S, socket_connect_timeout=REDIS_TIMEOUT_S
    )
    receiver = Receiver(settings, redis, celery or make_celery(settings), computed)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await redis.aclose()

    return Listeners(
        Starlette(
            routes=[
                Route("/webhook", receiver.webhook, methods=["POST"]),
                Route("/healthz", healthz, methods=["GET"]),
                Route("/readyz", receiver.readyz, methods=["GET"]),
            ],
            lifespan=lifespan,
        ),
        Starlette(
            routes=[
                Route("/healthz", healthz, methods=["GET"]),
                Route("/metrics", receiver.metrics_text, methods=["GET"]),
            ]
        ),
    )
