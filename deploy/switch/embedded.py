"""The embedded demo's stand-in for HAProxy: an in-process TCP proxy on the front port, for a
machine without HAProxy (`deploybot demo` on a fresh laptop). Not for production, and unlike
HAProxy it routes per connection, not per request: a keep-alive connection opened before a flip
stays on the old colour until it closes. An environment whose deploy.yaml says `switch:
embedded` uses it; it exists only inside the process that started it.

The moves are the same as HAProxy's (deploy/switch/base.py): route (the new colour takes every new
connection, the old one finishes what it has), retire, and a drain wait on open connections.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Final

from core.errors import SwitchError
from deploy.config import Address, DeployConfig, Environment
from deploy.switch.base import Counters, Server

CONNECT_TIMEOUT_S: Final = 5.0
BUFFER: Final = 65536
POLL_S: Final = 0.01


@dataclass
class _Colour:
    address: Address
    admin: str = "maint"  # ready | drain | maint, as HAProxy names them
    sessions: int = 0
    counters: Counters = field(default_factory=Counters)


class _Front(socketserver.ThreadingTCPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, env: Environment) -> None:
        self.colours = {name: _Colour(address) for name, address in env.colours.items()}
        self.lock = threading.Lock()
        super().__init__((env.front.host, env.front.port), _Pipe)

    def pick(self) -> tuple[str, _Colour] | None:
        with self.lock:
            for name, colour in self.colours.items():
                if colour.admin == "ready":
                    colour.sessions += 1
                    return name, colour
        return None

    def done(self, colour: _Colour, failed: bool) -> None:
        with self.lock:
            colour.sessions -= 1
            # Per connection, not per request: what a TCP proxy can see.
            if failed:
                errors = colour.counters.connection_errors + 1
                colour.counters = replace(colour.counters, connection_errors=errors)
            else:
                colour.counters = replace(colour.counters, responses=colour.counters.responses + 1)


class _Pipe(socketserver.BaseRequestHandler):
    server: _Front

    def handle(self) -> None:
        picked = self.server.pick()
        if picked is None:
            self.request.sendall(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n")
            return
        _, colour = picked
        try:
            upstream = socket.create_connection(
                (colour.address.host, colour.address.port), timeout=CONNECT_TIMEOUT_S
            )
        except OSError:
            self.server.done(colour, failed=True)
            self.request.sendall(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n")
            return
        upstream.settimeout(None)
        back = threading.Thread(target=_copy, args=(upstream, self.request), daemon=True)
        back.start()
        _copy(self.request, upstream)
        back.join()
        upstream.close()
        self.server.done(colour, failed=False)


def _copy(source: socket.socket, sink: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(BUFFER):
            sink.sendall(data)
    with contextlib.suppress(OSError):
        sink.shutdown(socket.SHUT_WR)


_RUNNING: dict[str, _Front] = {}


class EmbeddedSwitch:
    """The Switch over the fronts this process serves (see `serving`)."""

    def _front(self, environment: str) -> _Front:
        front = _RUNNING.get(environment)
        if front is None:
            raise SwitchError(
                f"the embedded switch of {environment} is not running in this process: it "
                "serves only inside `deploybot demo`; install HAProxy and use `switch: haproxy`"
            )
        return front

    def servers(self, environment: str) -> dict[str, Server]:
        front = self._front(environment)
        with front.lock:
            return {
                name: Server(
                    name, c.admin, c.admin != "maint", c.sessions, c.counters, str(c.address)
                )
                for name, c in front.colours.items()
            }

    def route(self, environment: str, colour: str, spare: str) -> None:
        front = self._front(environment)
        with front.lock:  # one step: there is never a moment with no colour ready
            front.colours[colour].admin = "ready"
            front.colours[spare].admin = "drain"

    def retire(self, environment: str, colour: str) -> None:
        front = self._front(environment)
        with front.lock:
            front.colours[colour].admin = "maint"

    def wait_drained(self, environment: str, colour: str, timeout_s: float) -> bool:
        front = self._front(environment)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with front.lock:
                if front.colours[colour].sessions == 0:
                    return True
            time.sleep(POLL_S)
        return False


@contextmanager
def serving(config: DeployConfig) -> Iterator[EmbeddedSwitch]:
    """Serve the front of every environment that asks for the embedded switch, for the block."""
    started = []
    try:
        for env in config.switched_by("embedded"):
            front = _Front(env)
            threading.Thread(target=front.serve_forever, daemon=True, name="front").start()
            _RUNNING[env.name] = front
            started.append(env.name)
        yield EmbeddedSwitch()
    finally:
        for name in started:
            front = _RUNNING.pop(name)
            front.shutdown()
            front.server_close()
