"""The latency budget, measured side by side: the same fixed requests to the new release and the
previous one, in the same run on the same machine, interleaved request by request (each round
starting with the other server) so that both meet the same noise of a busy machine. An absolute
figure from another day or machine is never the reference."""

from __future__ import annotations

import http.client
import json
import statistics
import time
import urllib.parse
from collections.abc import Sequence
from typing import Final

ROUNDS: Final = 5  # after one warm-up round
TIMEOUT_S: Final = 10.0


def _connect(url: str) -> http.client.HTTPConnection:
    parts = urllib.parse.urlsplit(url)
    return http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, TIMEOUT_S)


def _time(connection: http.client.HTTPConnection, sentence: str) -> float:
    body = json.dumps({"sentence": sentence})
    started = time.perf_counter()
    connection.request("POST", "/check", body, {"Content-Type": "application/json"})
    response = connection.getresponse()
    response.read()
    took = time.perf_counter() - started
    if response.status != 200:
        raise OSError(f"POST /check answered {response.status}")
    return took


def p50_ms(urls: Sequence[str], sentences: Sequence[str], rounds: int = ROUNDS) -> list[float]:
    """The median latency of each server over the same requests, in milliseconds."""
    connections = [_connect(url) for url in urls]
    samples: list[list[float]] = [[] for _ in urls]
    try:
        for index in range(rounds + 1):
            order = list(range(len(urls)))
            if index % 2:
                order.reverse()
            for sentence in sentences:
                for slot in order:
                    took = _time(connections[slot], sentence)
                    if index:  # the first round warms connections and caches
                        samples[slot].append(took)
    finally:
        for connection in connections:
            connection.close()
    return [statistics.median(s) * 1000 for s in samples]
