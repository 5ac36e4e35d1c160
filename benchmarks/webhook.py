"""Webhook ack latency and throughput through uvicorn into Redis, beside a bare 202 endpoint."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import shutil
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import redis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route

from benchmarks.report import Row, table
from bot.app import create_app
from core import contract
from testkit.loopback import free_port, private_redis, process_until_ready

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "tests/fixtures/github/webhooks/pull_request/synchronize.payload.json"
CLIENT_THREADS = 4
P99_TARGET_MS = 10.0
THROUGHPUT_TARGET = 0.5
Delivery = tuple[bytes, dict[str, str]]


async def bare(request: Request) -> Response:
    await request.body()
    return PlainTextResponse("accepted\n", status_code=202)


def serving_app() -> Starlette:
    """What the benchmark's uvicorn serves: the bare endpoint and the real receiver side by side."""
    return Starlette(routes=[Route("/bare", bare, methods=["POST"]), Mount("/", create_app())])


def main(quick: bool) -> int:
    if shutil.which("redis-server") is None:
        print("webhook: needs redis-server on PATH (apt-get install redis-server)")
        return 2
    latency_n, throughput_n = (300, 1200) if quick else (3000, 8000)
    secret = secrets.token_hex(16)
    with private_redis() as redis_url, _receiver(redis_url, secret) as base_url:
        rows = []
        queued = 0
        for name, path in (
            ("bare Starlette 202", "/bare"),
            ("signed synchronize → Redis", "/webhook"),
        ):
            requests = _deliveries(latency_n + throughput_n + 50, secret)
            with httpx.Client(base_url=base_url) as http:
                _send(http, path, requests[:50])  # warm-up: connections, imports, Redis pool
                samples = _send(http, path, requests[50 : 50 + latency_n])
            rps = _throughput(base_url, path, requests[50 + latency_n :])
            rows.append(Row(name, samples, rps))
            if path == "/webhook":
                queued = redis.Redis.from_url(redis_url).llen(contract.RunPipeline.QUEUE)
    expected = latency_n + throughput_n + 50
    print(
        table(
            "webhook ack (uvicorn on 127.0.0.1, one process, Redis on 127.0.0.1)",
            rows,
            rows[0].name,
        )
    )
    base, hook = rows
    ratio = (hook.throughput_rps or 0) / (base.throughput_rps or 1)
    print(f"jobs in Redis: {queued} of {expected} deliveries")
    print(
        f"p99 {hook.p99_ms:.2f} ms (target < {P99_TARGET_MS:.0f} ms): "
        f"{'met' if hook.p99_ms < P99_TARGET_MS else 'MISSED'}"
    )
    print(
        f"throughput {ratio:.0%} of the bare endpoint (target >= {THROUGHPUT_TARGET:.0%}): "
        f"{'met' if ratio >= THROUGHPUT_TARGET else 'MISSED'}"
    )
    return 0 if queued == expected else 1


def _deliveries(count: int, secret: str) -> list[Delivery]:
    """Signed synchronize deliveries, each for a new head commit so that every one is queued."""
    template = EXAMPLE.read_bytes()
    old_sha = json.loads(template)["pull_request"]["head"]["sha"].encode()
    out = []
    for _ in range(count):
        body = template.replace(old_sha, os.urandom(20).hex().encode())
        signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        headers = {
            "content-type": "application/json",
            "x-github-event": "pull_request",
            "x-github-delivery": str(uuid.uuid4()),
            "x-hub-signature-256": signature,
        }
        out.append((body, headers))
    return out


def _send(http: httpx.Client, path: str, requests: list[Delivery]) -> list[float]:
    samples = []
    for body, headers in requests:
        started = time.perf_counter()
        response = http.post(path, content=body, headers=headers)
        samples.append(time.perf_counter() - started)
        if response.status_code != 202:
            raise RuntimeError(f"{path} answered {response.status_code}: {response.text.strip()}")
    return samples


def _throughput(base_url: str, path: str, requests: list[Delivery]) -> float:
    shares = [requests[i::CLIENT_THREADS] for i in range(CLIENT_THREADS)]
    errors: list[BaseException] = []

    def run(share: list[Delivery]) -> None:
        try:
            with httpx.Client(base_url=base_url) as http:
                _send(http, path, share)
        except BaseException as exc:  # reported below, after the clock stops
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(share,)) for share in shares]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return len(requests) / elapsed


@contextmanager
def _receiver(redis_url: str, secret: str) -> Iterator[str]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DEPLOYBOT_WEBHOOK_SECRET": secret,
        "DEPLOYBOT_REDIS_URL": redis_url,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }

    def ready() -> bool:
        try:
            return httpx.get(base_url + "/readyz", timeout=0.5).status_code == 200
        except httpx.HTTPError:
            return False

    argv = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "benchmarks.webhook:serving_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    with process_until_ready(argv, ready, env):
        yield base_url
