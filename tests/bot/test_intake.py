"""Slow, stalled and huge senders against a real receiver process: bounded time, bounded memory,
and signed deliveries still answered."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.intake import BODY_TIMEOUT_S, MAX_IN_FLIGHT_BYTES, RETRY_AFTER_S
from core.settings import unconfigured
from testkit.loopback import free_port
from tests.bot.conftest import encode, example, headers_for
from tests.conftest import WEBHOOK_SECRET

ROOT = Path(__file__).resolve().parents[2]
DECLARED = 25 * 1024 * 1024
SENT = 24 * 1024 * 1024


@pytest.fixture
def receiver(redis_url: str) -> Iterator[tuple[int, int]]:
    """A `deploybot serve` process on a free port: (port, pid)."""
    port = free_port()
    env = {
        **unconfigured(os.environ),
        "DEPLOYBOT_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "DEPLOYBOT_REDIS_URL": redis_url,
    }
    argv = [sys.executable, "-m", "deploybot", "serve", "--port", str(port)]
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the receiver did not start")
            time.sleep(0.1)
    try:
        yield port, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def head(declared: int) -> bytes:
    """Request headers of a delivery announcing `declared` bytes, signed as if for another body."""
    headers = {**headers_for("pull_request", b"x"), "content-length": str(declared)}
    lines = [f"{name}: {value}" for name, value in headers.items()]
    return (
        "POST /webhook HTTP/1.1\r\nhost: 127.0.0.1\r\n" + "\r\n".join(lines)
    ).encode() + b"\r\n\r\n"


def answer(sock: socket.socket) -> str:
    """The status line and headers the receiver answered (empty if it hung up)."""
    sock.settimeout(BODY_TIMEOUT_S + 10)
    try:
        data = sock.recv(4096).decode(errors="replace")
    except OSError:
        return ""
    return data.split("\r\n\r\n", 1)[0]


def stall(port: int, sent: int) -> socket.socket:
    """Announce 25 MB, send `sent` bytes of it, and stop."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(head(DECLARED))
    chunk = b" " * (1024 * 1024)
    sock.settimeout(3)
    try:
        for _ in range(sent // len(chunk)):
            sock.sendall(chunk)
    except OSError:
        pass  # answered and closed before the body was read: the refusal is what we wanted
    return sock


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return (
        int(next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1])
        / 1024
    )


def signed_ping(port: int) -> int:
    body = encode(example("ping/payload.json"))
    headers = headers_for("ping", body)
    lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    request = f"POST /webhook HTTP/1.1\r\nhost: x\r\ncontent-length: {len(body)}\r\n{lines}\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request.encode() + body)
        return int(answer(sock).split()[1])


def test_a_body_that_stalls_is_dropped_with_408(receiver: tuple[int, int]) -> None:
    port, _ = receiver
    sock = stall(port, 1024 * 1024)
    started = time.monotonic()
    status = answer(sock)
    sock.close()
    assert status.startswith("HTTP/1.1 408")
    assert BODY_TIMEOUT_S - 1 < time.monotonic() - started < BODY_TIMEOUT_S + 5


def test_bodies_beyond_the_in_flight_budget_are_answered_503_with_retry_after(
    receiver: tuple[int, int],
) -> None:
    port, _ = receiver
    fit = MAX_IN_FLIGHT_BYTES // DECLARED
    held = [stall(port, 0) for _ in range(fit)]
    time.sleep(0.5)
    refused = stall(port, 0)
    status = answer(refused)
    assert status.startswith("HTTP/1.1 503")
    assert f"retry-after: {RETRY_AFTER_S}" in status.lower()
    for sock in [*held, refused]:
        sock.close()


@pytest.mark.slow
def test_a_hundred_stalled_uploads_leave_the_receiver_small_and_answering(
    receiver: tuple[int, int],
) -> None:
    port, pid = receiver
    before = rss_mb(pid)
    socks: list[socket.socket] = []
    threads = [threading.Thread(target=lambda: socks.append(stall(port, SENT))) for _ in range(100)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    peak = rss_mb(pid)
    assert signed_ping(port) == 200
    statuses = [answer(sock).split(" ", 2)[1:2] for sock in socks]
    for sock in socks:
        sock.close()
    print(f"receiver RSS: {before:.0f} MB idle, {peak:.0f} MB with 100 stalled uploads")
    assert peak < 300
    assert {s[0] for s in statuses if s} <= {"408", "503"}
