"""Run HAProxy in the foreground with the configuration rendered from deploy.yaml, and whenever it
(re)starts, re-assert each environment's colour from the ledger: a restarted HAProxy routes where
the ledger says, whatever its state file held."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Final

from core.children import die_with_parent
from core.errors import ConfigError, DeploybotError, SwitchError
from deploy.config import DeployConfig
from deploy.engine import reassert
from deploy.ledger import Ledger, read
from deploy.switch.haproxy import HAProxy, Paths
from deploy.switch.render import render
from deploy.watch import Watcher

READY_TIMEOUT_S: Final = 10.0


def haproxy_binary() -> str:
    binary = shutil.which("haproxy") or (
        "/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").is_file() else None
    )
    if binary is None:
        raise ConfigError("haproxy is not installed (Debian: apt-get install haproxy)")
    return binary


def start(config: DeployConfig, paths: Paths) -> subprocess.Popen[bytes]:
    """HAProxy running with the rendered configuration, its admin socket answering."""
    paths.root.mkdir(parents=True, exist_ok=True)
    paths.config.write_text(render(config, paths.socket, paths.state), encoding="utf-8")
    if not paths.state.exists():
        paths.state.write_text("1\n", encoding="utf-8")  # an empty state: nothing to restore
    child = subprocess.Popen(  # noqa: S603 - fixed argv: HAProxy with our configuration
        [haproxy_binary(), "-db", "-f", str(paths.config)],
        stdin=subprocess.DEVNULL,
        # HAProxy goes when `deploybot proxy` goes: a restarted proxy must find the ports free.
        preexec_fn=die_with_parent,
    )
    switch = HAProxy(paths)
    deadline = time.monotonic() + READY_TIMEOUT_S
    while True:
        if child.poll() is not None:
            raise ConfigError(f"haproxy exited {child.returncode} at start (see its output above)")
        try:
            switch.command("show info")
            return child
        except SwitchError:
            if time.monotonic() > deadline:
                child.kill()
                raise ConfigError(
                    f"haproxy's admin socket {paths.socket} did not answer in "
                    f"{READY_TIMEOUT_S:.0f} s"
                ) from None
            time.sleep(0.05)


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


def run(
    config: DeployConfig,
    paths: Paths,
    ledgers: Path,
    say: Callable[[str], None] = print,
    watcher: Watcher | None = None,
) -> int:
    """HAProxy in the foreground until it exits or this process is asked to stop; its exit code.
    The watcher (when given) fails a dead live colour over to its warm spare meanwhile."""
    child = start(config, paths)
    for line in reassert_all(config, HAProxy(paths), ledgers):
        say(f"deploybot proxy: {line}")
    say(f"deploybot proxy: HAProxy {child.pid} serving; admin socket {paths.socket}")

    def forward(signum: int, _: FrameType | None) -> None:
        child.send_signal(signum)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, forward)
    if watcher is not None:
        watcher.start()
    try:
        return child.wait()
    finally:
        if watcher is not None:
            watcher.stop()
