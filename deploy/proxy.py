"""HAProxy with the configuration rendered from deploy.yaml, and each environment's colour
re-asserted from the ledger whenever a new HAProxy worker answers (a start, a restart, a reload):
HAProxy routes where the ledger says, whatever its state file held.

Either this process runs HAProxy as its child (the Procfile), or HAProxy runs on its own (`attach`:
the compose file's `proxy` service, which an upgrade of deploybot does not restart) and this one
writes its configuration, reloads it, and watches it. HAProxy runs in
master-worker mode either way, so a reload drops no connection.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Final

from core.children import die_with_parent
from core.errors import ConfigError, DeploybotError
from deploy.config import DeployConfig
from deploy.engine import reassert
from deploy.ledger import Ledger, read
from deploy.switch.haproxy import HAProxy, Paths, Worker
from deploy.switch.render import render
from deploy.watch import Watcher

READY_TIMEOUT_S: Final = 10.0
# How often the worker answering on the admin socket is asked for (a new one is re-asserted).
LOOK_S: Final = 0.5


@dataclass(frozen=True)
class Proxy:
    """What `deploybot proxy` runs: the environments, HAProxy's files, where the ledgers are, and
    (attach) whether HAProxy runs on its own rather than as this process's child."""

    config: DeployConfig
    paths: Paths
    ledgers: Path
    attach: bool = False
    health: str | None = None


def haproxy_binary() -> str:
    binary = shutil.which("haproxy") or (
        "/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").is_file() else None
    )
    if binary is None:
        raise ConfigError("haproxy is not installed (Debian: apt-get install haproxy)")
    return binary


def haproxy_argv(paths: Paths) -> list[str]:
    """HAProxy in master-worker mode on the configuration file, in the foreground: what the
    Procfile's proxy starts, and what the compose file's proxy service runs."""
    return [
        haproxy_binary(),
        "-W",
        "-db",
        "-S",
        f"{paths.master},mode,600",
        "-f",
        str(paths.config),
    ]


def write_config(proxy: Proxy) -> bool:
    """HAProxy's configuration file as deploy.yaml renders it, once HAProxy itself accepts it
    (a file it would refuse is never put where a start or a reload reads it); True when that
    changed it."""
    paths = proxy.paths
    paths.root.mkdir(parents=True, exist_ok=True)
    if not paths.state.exists():
        paths.state.write_text("1\n", encoding="utf-8")  # an empty state: nothing to restore
    text = render(proxy.config, paths.socket, paths.state, proxy.health)
    if paths.config.is_file() and paths.config.read_text(encoding="utf-8") == text:
        return False
    temporary = paths.config.with_name(f".{paths.config.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    checked = subprocess.run(  # noqa: S603 - fixed argv: HAProxy checking our file
        [haproxy_binary(), "-c", "-q", "-f", str(temporary)],
        capture_output=True,
        text=True,
        check=False,
    )
    if checked.returncode != 0:
        temporary.unlink()
        said = (checked.stderr or checked.stdout).strip()
        raise ConfigError(f"HAProxy refuses the configuration deploy.yaml renders:\n{said}")
    os.replace(temporary, paths.config)  # HAProxy, starting or reloading, reads it whole
    return True


def start(paths: Paths) -> subprocess.Popen[bytes]:
    """HAProxy as this process's child, its admin socket answering."""
    child = subprocess.Popen(  # noqa: S603 - fixed argv: HAProxy with our configuration
        haproxy_argv(paths),
        stdin=subprocess.DEVNULL,
        # HAProxy goes when `deploybot proxy` goes: a restarted proxy must find the ports free.
        preexec_fn=die_with_parent,
    )
    switch = HAProxy(paths)
    deadline = time.monotonic() + READY_TIMEOUT_S
    while switch.worker() is None:
        if child.poll() is not None:
            raise ConfigError(f"haproxy exited {child.returncode} at start (see its output above)")
        if time.monotonic() > deadline:
            child.kill()
            raise ConfigError(
                f"haproxy's admin socket {paths.socket} did not answer in {READY_TIMEOUT_S:.0f} s"
            )
        time.sleep(0.05)
    return child


def reassert_all(config: DeployConfig, switch: HAProxy, ledgers: Path) -> list[str]:
    """Each environment re-asserted on its own: one that cannot be (its ledger unreadable, its
    backend refused) is named and left as HAProxy's state file had it, never stopping the rest."""
    said = []
    for env in config.switched_by("haproxy"):
        try:
            said.append(reassert(env, read(Ledger(ledgers, env.name).entries()), switch))
        except (DeploybotError, OSError) as exc:
            said.append(f"{env.name}: could not re-assert its colour ({exc}); left as it was")
    return said


def run(proxy: Proxy, say: Callable[[str], None] = print, watcher: Watcher | None = None) -> int:
    """Until HAProxy exits (its child) or this process is asked to stop; HAProxy's exit code (0
    when attached). The watcher (when given) fails a dead live colour over to its warm spare."""
    changed = write_config(proxy)
    switch = HAProxy(proxy.paths)
    child = None if proxy.attach else start(proxy.paths)
    if child is None and switch.worker() is not None:
        # Attached, a running HAProxy is reloaded every time this starts: whether its worker
        # read the file as it is now (a keeper killed between writing and reloading) is not
        # known, and a reload costs no connection.
        new = switch.reload(READY_TIMEOUT_S)
        why = "configuration changed" if changed else "configuration as written"
        say(f"deploybot proxy: HAProxy reloaded ({why}), worker {new.pid}")
    stopping = threading.Event()

    def stop(signum: int, _: FrameType | None) -> None:
        if child is not None:
            child.send_signal(signum)
        stopping.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stop)
    # The watcher starts once HAProxy answers (attached, it may start after this process).
    started = watcher.start if watcher is not None else lambda: None
    try:
        _look(
            proxy,
            switch,
            say,
            started,
            lambda: stopping.is_set() or (child is not None and child.poll() is not None),
        )
        return child.wait() if child is not None else 0
    finally:
        if watcher is not None:
            watcher.stop()


def _look(
    proxy: Proxy,
    switch: HAProxy,
    say: Callable[[str], None],
    first: Callable[[], None],
    done: Callable[[], bool],
) -> None:
    """Re-assert every environment each time another HAProxy worker answers, until done();
    first() once the first one has been."""
    seen: Worker | None = None
    while not done():
        worker = switch.worker()
        if worker is not None and not worker.same(seen):
            for line in reassert_all(proxy.config, switch, proxy.ledgers):
                say(f"deploybot proxy: {line}")
            where = switch.paths.socket
            say(f"deploybot proxy: HAProxy worker {worker.pid} serving; admin socket {where}")
            if seen is None:
                first()
            seen = worker
        time.sleep(LOOK_S)
