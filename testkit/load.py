"""A bounded load client for a front on loopback: workers on keep-alive and on new connections,
GET /version and POST /check, every answer (when, which commit, how long) and every failure kept.
The deploy benchmark and the traffic tests measure failed requests with it."""

from __future__ import annotations

import functools
import http.client
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Final

from testkit.tutor import ROOT

WORKERS: Final = 4  # half on one keep-alive connection each, half on a new connection per request
PAUSE_S: Final = 0.004  # between a worker's requests: bounded, so the deploys get the CPU too


@functools.cache
def sentences() -> list[str]:
    """The tutor's fixed latency set: what the client asks POST /check."""
    return (ROOT / "data/eval/latency_requests.txt").read_text(encoding="utf-8").split("\n")


@dataclass
class Load:
    """The load client: every answer (when, which commit, how long), and every failure."""

    port: int
    answers: list[tuple[float, str, float]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def _one(self, connection: http.client.HTTPConnection, n: int) -> tuple[int, bytes]:
        if n % 2:
            asked = sentences()
            body = json.dumps({"sentence": asked[n % len(asked)] or "Yo hablo."})
            headers = {"Content-Type": "application/json"}
            connection.request("POST", "/check", body=body, headers=headers)
        else:
            connection.request("GET", "/version")
        response = connection.getresponse()
        return response.status, response.read()

    def _worker(self, keep_alive: bool) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        n = 0
        while not self.stop.is_set():
            n += 1
            started = time.monotonic()
            try:
                status, data = self._one(connection, n)
                if status != 200:
                    self.failures.append(f"answered {status}: {data[:100]!r}")
                elif n % 2 == 0:
                    commit = str(json.loads(data)["commit"])
                    self.answers.append((started, commit, time.monotonic() - started))
                else:
                    self.answers.append((started, "", time.monotonic() - started))
            except (OSError, http.client.HTTPException) as exc:
                self.failures.append(f"{exc.__class__.__name__}: {exc}")
                connection.close()
            if not keep_alive:
                connection.close()
            time.sleep(PAUSE_S)
        connection.close()

    @contextmanager
    def running(self) -> Iterator[Load]:
        threads = [
            threading.Thread(target=self._worker, args=(i % 2 == 0,), daemon=True)
            for i in range(WORKERS)
        ]
        for thread in threads:
            thread.start()
        try:
            yield self
        finally:
            self.stop.set()
            for thread in threads:
                thread.join()

    def first(self, commit: str, since: float) -> float | None:
        """Seconds from `since` to the first answer from `commit`."""
        seen = [t for t, c, _ in list(self.answers) if c == commit and t >= since]
        return min(seen) - since if seen else None

    def latencies(self, start: float, end: float) -> list[float]:
        return [took for t, _, took in list(self.answers) if start <= t < end]


def post_check(port: int, body: bytes) -> int:
    """The status a front on loopback answers one POST /check carrying `body` as it is (a
    malformed one included)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("POST", "/check", body, {"Content-Type": "application/json"})
        return connection.getresponse().status
    finally:
        connection.close()
