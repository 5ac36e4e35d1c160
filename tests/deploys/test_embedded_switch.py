"""The embedded demo's stand-in for HAProxy: routes new connections to the ready colour, lets the
drained one finish what it has, refuses with 503 when nothing is routed, and says where it runs."""

from __future__ import annotations

import http.client
import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from core.errors import SwitchError
from deploy.config import DeployConfig, load_config
from deploy.switch.embedded import EmbeddedSwitch, serving
from deploy.switch.render import render
from testkit.loopback import free_ports


class _Named(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the tutor's clients use it

    def do_GET(self) -> None:
        body = self.server.name.encode()  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        return None


@contextmanager
def _colour(name: str, port: int) -> Iterator[None]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), _Named)
    server.name = name  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


def _get(connection: http.client.HTTPConnection) -> tuple[int, str]:
    connection.request("GET", "/")
    answer = connection.getresponse()
    return answer.status, answer.read().decode()


def _embedded(front: int, blue: int, green: int) -> DeployConfig:
    """One environment "demo" behind the embedded switch on these loopback ports."""
    return load_config(
        "environments:\n  demo:\n"
        f"    front: 127.0.0.1:{front}\n"
        f"    colours: {{blue: 127.0.0.1:{blue}, green: 127.0.0.1:{green}}}\n"
        "    runtime: process\n    switch: embedded\n"
    )


def _fetch(port: int) -> tuple[int, str]:
    """One request on a new connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        return _get(connection)
    finally:
        connection.close()


def test_routes_drains_and_retires_like_the_real_switch() -> None:
    front, blue, green = free_ports(3)
    config = _embedded(front, blue, green)
    with _colour("blue", blue), _colour("green", green), serving(config) as switch:
        assert _fetch(front) == (503, "")  # nothing routed yet: refused, not hung
        switch.route("demo", "blue", "green")
        kept = http.client.HTTPConnection("127.0.0.1", front, timeout=5)
        assert _get(kept) == (200, "blue")

        switch.route("demo", "green", "blue")
        assert _fetch(front) == (200, "green")  # every new connection: the new colour
        assert _get(kept) == (200, "blue")  # one opened before the flip finishes where it is
        servers = switch.servers("demo")
        assert (servers["blue"].admin, servers["blue"].sessions) == ("drain", 1)
        assert not switch.wait_drained("demo", "blue", 0.2)
        kept.close()
        assert switch.wait_drained("demo", "blue", 5)

        switch.retire("demo", "green")
        switch.retire("demo", "blue")
        assert _fetch(front) == (503, "")
    with pytest.raises(SwitchError, match="only inside `deploybot demo`"):
        EmbeddedSwitch().servers("demo")


def test_a_colour_that_refuses_connections_is_counted_as_a_connection_error() -> None:
    front, blue, green = free_ports(3)
    config = _embedded(front, blue, green)
    with serving(config) as switch:
        switch.route("demo", "blue", "green")  # nothing listens on blue
        assert _fetch(front)[0] == 502
        assert switch.servers("demo")["blue"].counters.connection_errors == 1


def test_haproxy_is_given_only_the_environments_it_carries(tmp_path: Path) -> None:
    ports = free_ports(6)
    config = load_config(
        "environments:\n"
        f"  prod:\n    front: 127.0.0.1:{ports[0]}\n"
        f"    colours: {{blue: 127.0.0.1:{ports[1]}, green: 127.0.0.1:{ports[2]}}}\n"
        f"  demo:\n    front: 127.0.0.1:{ports[3]}\n"
        f"    colours: {{blue: 127.0.0.1:{ports[4]}, green: 127.0.0.1:{ports[5]}}}\n"
        "    switch: embedded\n"
    )
    rendered = render(config, tmp_path / "admin.sock", tmp_path / "state")
    assert "frontend front_prod" in rendered
    assert "front_demo" not in rendered
