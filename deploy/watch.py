"""The watcher of the live colours, beside HAProxy in `deploybot proxy`: outside a deploy, when the
colour the switch routes to fails HAProxy's health checks and the warm spare passes them, traffic
goes to the spare within a second or two, and the ledger records it (a failure and its restore for
the DORA figures, shown on the status page and `/metrics`). During a deploy or a rollback the
lock's holder owns the traffic (its bake flips back by itself), so the watcher only acts under the
environment's lock.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Final

from core.errors import LockUnavailable, SwitchError
from deploy import machine, places
from deploy.config import DeployConfig, Environment
from deploy.engine import Engine
from deploy.lock import Lease, LockBusy, Locks, holder_now
from deploy.switch.haproxy import HAProxy

INTERVAL_S: Final = 0.25
WHO: Final = "deploybot proxy (watcher)"

log = logging.getLogger(__name__)


class Watcher:
    """A thread that checks every environment HAProxy carries every INTERVAL_S."""

    def __init__(
        self,
        config: DeployConfig,
        data_dir: Path,
        locks: Locks,
        say: Callable[[str], None] = print,
        tell: Callable[[str, str], None] = lambda _env, _run: None,
    ) -> None:
        self.config = config
        self.data_dir = data_dir
        self.locks = locks
        self.say = say
        self.tell = tell  # (environment, the failover's run id): on-call hears of it
        self._said: dict[str, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="live-watcher")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.ident is not None:  # started (HAProxy answered at least once)
            self._thread.join()

    def _loop(self) -> None:
        switch = HAProxy(places.proxy_paths(self.data_dir))
        while not self._stop.wait(INTERVAL_S):
            for env in self.config.switched_by("haproxy"):
                try:
                    found = machine.failover(switch.servers(env.name))
                    if found is not None:
                        self.fail_over(env, *found)
                except (
                    SwitchError
                ) as exc:  # HAProxy away (restarting): said once, not 4 times a second
                    self._say_once(env.name, f"deploybot proxy: {env.name}: not watched: {exc}")
                except Exception:  # whatever a runtime raises: the watch goes on, said in the log
                    log.exception("watcher: %s", env.name)

    def _say_once(self, environment: str, said: str) -> None:
        """`said`, unless it is what was last said of this environment."""
        if self._said.get(environment) != said:
            self.say(said)
            self._said[environment] = said

    def fail_over(self, env: Environment, failed: str, spare: str) -> None:
        """`failed`, the colour HAProxy routes to, is down and `spare` is up: the spare serves,
        under the environment's lock (a deploy or rollback in progress owns its traffic)."""
        where = places.place(self.data_dir, env, "")
        try:
            lease: Lease | None = self.locks.acquire(
                env.name, holder_now(WHO, "failover", ""), "refuse"
            )
        except LockBusy:
            return  # a deploy or rollback runs: the traffic is its holder's to judge
        except LockUnavailable as exc:
            # Users first, with Redis away, unless the ledger says a run is in progress (its
            # holder may still believe its lease good, and it owns the traffic).
            if where.state().unfinished:
                self.say(f"deploybot proxy: {env.name}: not failing over: {exc}; a run is open")
                return
            self.say(f"deploybot proxy: {env.name}: failing over without the lock ({exc})")
            lease = None
        try:
            result = Engine(where, lambda _: None, WHO, lease).fail_over(
                failed, spare, "failed HAProxy's health checks"
            )
        finally:
            if lease is not None:
                lease.release()
        # A failover it cannot make is said once.
        self._say_once(
            env.name, f"deploybot proxy: {env.name}: failover {result.outcome}: {result.detail}"
        )
        last = where.state().deploys
        if result.outcome == machine.DONE and last and last[-1][0].kind == "failover":
            self.tell(env.name, last[-1][0].deploy)
