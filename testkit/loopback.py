"""Local helpers on 127.0.0.1: a free port, a process waited on until ready, a private Redis (one
that can be killed and restarted with its data, too), and an in-process Redis (fakeredis) for the
embedded demo."""

from __future__ import annotations

import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager

import redis

START_TIMEOUT_S = 15.0


def free_port() -> int:
    """A port nothing listens on right now (the kernel's pick on 127.0.0.1)."""
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """`count` different ports nothing listens on right now: each held while the next is picked
    (one at a time, the kernel may pick the same port twice)."""
    with ExitStack() as held:
        socks = [held.enter_context(socket.socket()) for _ in range(count)]
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in socks]


@contextmanager
def process_until_ready(
    argv: list[str],
    ready: Callable[[], bool],
    env: Mapping[str, str] | None = None,
    *,
    quiet: bool = False,
) -> Iterator[None]:
    """Run argv until the block ends, yielding once ready() says it serves; `quiet` drops its
    standard error too (a server that logs every request there)."""
    errors = subprocess.DEVNULL if quiet else None
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=errors)  # noqa: S603
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not ready():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"{argv[0]} did not start serving within {START_TIMEOUT_S:.0f} s"
                )
            time.sleep(0.05)
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def _redis_argv(
    server: str, port: int, workdir: str, durable: bool, password: str | None
) -> list[str]:
    keep = ["--appendonly", "yes", "--appendfsync", "always"] if durable else ["--appendonly", "no"]
    return [
        server,
        "--bind",
        "127.0.0.1",
        "--port",
        str(port),
        "--save",
        "",
        *keep,
        "--dir",
        workdir,
        *(["--requirepass", password] if password else []),
    ]


@contextmanager
def private_redis(server: str = "redis-server", password: str | None = None) -> Iterator[str]:
    """A throwaway redis-server on a free loopback port that keeps nothing on disk, asking for
    `password` when given; yields its URL (database 0, with the password)."""
    port = free_port()
    url = f"redis://{f':{password}@' if password else ''}127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="deploybot-redis-") as workdir:
        argv = _redis_argv(server, port, workdir, False, password)
        with process_until_ready(argv, lambda: redis_answers(url)):
            yield f"{url}/0"


class RestartableRedis:
    """A redis-server on a free loopback port that writes every change to its append-only file
    before answering, so it can be killed (SIGKILL) and started again holding what it held: a
    Redis restart as a host's crash or an upgrade makes one."""

    def __init__(self, workdir: str, server: str = "redis-server") -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._argv = _redis_argv(server, self.port, workdir, True, None)
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start it, and return once it answers (its data loaded)."""
        self._proc = subprocess.Popen(self._argv, stdout=subprocess.DEVNULL)  # noqa: S603
        deadline = time.monotonic() + START_TIMEOUT_S
        while not redis_answers(self.url):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start within {START_TIMEOUT_S:.0f} s")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: every client's connection drops at once, and nothing answers on the port."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait(timeout=10)
            self._proc = None


@contextmanager
def restartable_redis(server: str = "redis-server") -> Iterator[RestartableRedis]:
    """A RestartableRedis, started, and killed when the block ends."""
    with tempfile.TemporaryDirectory(prefix="deploybot-redis-") as workdir:
        found = RestartableRedis(workdir, server)
        found.start()
        try:
            yield found
        finally:
            found.kill()


def _keep_open_handler() -> type:
    from fakeredis._clients._tcp_server import TCPFakeRequestHandler

    class KeepOpen(TCPFakeRequestHandler):
        """fakeredis hangs up after any error reply; real Redis keeps the connection. Celery's
        transport relies on that (EVALSHA answers NOSCRIPT once, then the script is loaded)."""

        def handle(self) -> None:
            while not self.server._shutdown_event.is_set() and not self._peer_closed():
                super().handle()

        def _peer_closed(self) -> bool:
            try:
                peeked: bytes = self.connection.recv(1, socket.MSG_PEEK)
            except BlockingIOError:
                return False
            except OSError:
                return True
            return peeked == b""

    return KeepOpen


@contextmanager
def fake_redis() -> Iterator[str]:
    """An in-process Redis speaking the real protocol on loopback (fakeredis with Lua)."""
    from fakeredis import TcpFakeServer

    port = free_port()
    server = TcpFakeServer(("127.0.0.1", port), server_type="redis")
    server.RequestHandlerClass = _keep_open_handler()
    # Handler threads must not keep the demo alive, nor block its exit.
    server.daemon_threads = True
    server.block_on_close = False
    thread = threading.Thread(target=server.serve_forever, name="fake-redis", daemon=True)
    thread.start()
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.shutdown()
        server.server_close()
