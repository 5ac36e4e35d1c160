"""Tutor latency: POST /check through a real uvicorn server, beside a trivial endpoint on it.

A fixed set of 50 requests goes sequentially over one keep-alive connection; the same client then
hits a trivial Starlette endpoint on the same server, so the table shows what the tutor adds over
the HTTP stack, both measured in this run on this machine. No figure from another run is judged:
on shared 2-core machines the same code measured 0.64x its stored figure. The release latency
budget (new p50 within 1.2x the previous release's) is measured side by side by the pre-deploy
gate, with both releases running in the same gate run.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from benchmarks.report import Row, table
from testkit.loopback import free_port
from tutor.__main__ import SERVING_ENV
from tutor.app import create_app
from tutor.checker import load_checker

# The same fixed 50 requests the pre-deploy gate times each release with, side by side.
REQUESTS_PATH = Path(__file__).resolve().parents[1] / "data" / "eval" / "latency_requests.txt"


def fixed_requests() -> list[str]:
    return REQUESTS_PATH.read_text(encoding="utf-8").splitlines()


async def _trivial(request: Request) -> JSONResponse:
    await request.body()
    return JSONResponse({"verdict": "correct", "corrections": []})


def bench_app() -> Starlette:
    """The tutor app and a trivial endpoint on one server (uvicorn --factory)."""
    tutor = create_app(load_checker("model"))
    return Starlette(routes=[Route("/trivial", _trivial, methods=["POST"]), Mount("/", tutor)])


@contextmanager
def _server() -> Iterator[int]:
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", "benchmarks.tutor:bench_app"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    root = Path(__file__).resolve().parent.parent
    # A fixed argv: this interpreter running uvicorn on a loopback port.
    env = {**os.environ, **SERVING_ENV, "PYTHONPATH": str(root)}
    process = subprocess.Popen(command, cwd=root, env=env)  # noqa: S603
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the benchmark server did not start") from None
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def _measure(port: int, path: str, rounds: int) -> list[float]:
    connection = http.client.HTTPConnection("127.0.0.1", port)
    headers = {"Content-Type": "application/json"}
    samples: list[float] = []
    try:
        for round_index in range(rounds + 1):
            for sentence in fixed_requests():
                body = json.dumps({"sentence": sentence})
                started = time.perf_counter()
                connection.request("POST", path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                elapsed = time.perf_counter() - started
                if response.status != 200:
                    raise RuntimeError(f"POST {path} answered {response.status}")
                if round_index:  # the first round warms caches and the connection
                    samples.append(elapsed)
    finally:
        connection.close()
    return samples


def _rows(port: int, rounds: int) -> Sequence[Row]:
    rows = []
    for name, path in (
        ("POST /check (tutor)", "/check"),
        ("POST /trivial (same server)", "/trivial"),
    ):
        started = time.perf_counter()
        samples = _measure(port, path, rounds)
        rows.append(Row(name, samples, len(samples) / (time.perf_counter() - started)))
    return rows


def main(quick: bool) -> int:
    with _server() as port:
        rows = _rows(port, rounds=2 if quick else 10)
    print(table("tutor: 50 fixed requests, sequential keep-alive client", rows, rows[1].name))
    check, trivial = rows
    print(
        f"/check p50 {check.p50_ms:.2f} ms, p99 {check.p99_ms:.2f} ms: the tutor adds "
        f"{check.p50_ms - trivial.p50_ms:.2f} ms at p50 over the same server's trivial endpoint"
    )
    return 0
