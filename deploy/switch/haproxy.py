"""The traffic switch over HAProxy's runtime API (the admin socket): a flip is never a reload.

A flip is one command line: the new colour set ready and forced up (deploybot has just checked
its health itself; HAProxy's own checks carry on from there), then the old colour set to drain,
which takes no new requests and finishes those in flight; `wait_drained` then watches its
sessions fall to 0. After every change the servers' state is saved to the server-state file, so a
restarted HAProxy starts where the last one was (and `deploybot proxy` re-asserts the ledger's
colour on top, whatever the file says).

HAProxy runs in master-worker mode: the master (its own socket) stays, and a reload replaces the
worker, which takes the listening sockets over from the old one (the admin socket's `expose-fd
listeners`) while the old one finishes its connections; no connection is refused or cut.
"""

from __future__ import annotations

import csv
import io
import os
import re
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from core.errors import SwitchError
from deploy.switch.base import Counters, Server
from deploy.switch.render import backend_name

TIMEOUT_S: Final = 5.0
# srv_admin_state bits in `show servers state` (HAProxy's SRV_ADMF_*).
_FORCED_MAINT: Final = 0x01
_FORCED_DRAIN: Final = 0x08
_RUNNING: Final = "2"  # srv_op_state SRV_ST_RUNNING
# A server's responses by status class in `show stat` (its req_tot is empty for servers).
_RESPONSE_CLASSES: Final = ("1xx", "2xx", "3xx", "4xx", "5xx", "other")
_PID: Final = re.compile(r"^Pid: ([0-9]+)$", re.MULTILINE)
_UPTIME: Final = re.compile(r"^Uptime_sec: ([0-9]+)$", re.MULTILINE)


@dataclass(frozen=True)
class Paths:
    """Where `deploybot proxy` keeps HAProxy's files: root/haproxy.cfg, admin.sock (the worker's
    runtime API), master.sock (the master's, for reloads), servers.state."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "haproxy.cfg"

    @property
    def socket(self) -> Path:
        return self.root / "admin.sock"

    @property
    def state(self) -> Path:
        return self.root / "servers.state"

    @property
    def master(self) -> Path:
        return self.root / "master.sock"


def _ask(path: Path, line: str, whose: str) -> str:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(TIMEOUT_S)
            conn.connect(str(path))
            conn.sendall(line.encode() + b"\n")
            chunks = []
            while chunk := conn.recv(65536):
                chunks.append(chunk)
    except OSError as exc:
        raise SwitchError(
            f"HAProxy's {whose} socket {path} does not answer ({exc}); is `deploybot proxy` "
            "running with this data dir (and HAProxy beside it)?"
        ) from exc
    return b"".join(chunks).decode("utf-8", "replace")


@dataclass(frozen=True)
class Worker:
    """One HAProxy worker process: its pid, and when it started (seconds since the epoch)."""

    pid: int
    started: int

    def same(self, other: Worker | None) -> bool:
        # The start time comes from an uptime in whole seconds read at some moment: a second off.
        return (
            other is not None and other.pid == self.pid and abs(other.started - self.started) <= 2
        )


class HAProxy:
    def __init__(self, paths: Paths) -> None:
        self.paths = paths

    def command(self, line: str) -> str:
        """One command line (commands separated by ';') and HAProxy's whole answer."""
        return _ask(self.paths.socket, line, "admin")

    def worker(self) -> Worker | None:
        """The worker answering on the admin socket; None when none answers."""
        try:
            info = self.command("show info")
        except SwitchError:
            return None
        pid, uptime = _PID.search(info), _UPTIME.search(info)
        if pid is None or uptime is None:
            return None
        # A restarted container numbers its processes afresh: the pid alone may come back.
        return Worker(int(pid[1]), round(time.time()) - int(uptime[1]))

    def reload(self, timeout_s: float) -> Worker:
        """Have the master start a new worker on the configuration file as it is now; the new
        worker once it answers (the old one finishes its connections and leaves)."""
        old = self.worker()
        _ask(self.paths.master, "reload", "master")
        deadline = time.monotonic() + timeout_s
        while (new := self.worker()) is None or new.same(old):
            if time.monotonic() > deadline:
                raise SwitchError(
                    f"HAProxy's master did not start a new worker in {timeout_s:.0f} s after "
                    "`reload`: is the configuration valid (`haproxy -c -f` on it)?"
                )
            time.sleep(0.05)
        return new

    def _set(self, commands: list[str]) -> None:
        answer = self.command("; ".join(commands)).strip()
        if answer:
            raise SwitchError(f"HAProxy refused {'; '.join(commands)!r}: {answer}")
        self.save_state()

    def save_state(self) -> None:
        """The servers' state, written whole (a temporary file renamed over the last one)."""
        text = self.command("show servers state")
        temporary = self.paths.state.with_name(f".{self.paths.state.name}.tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, self.paths.state)

    def servers(self, environment: str) -> dict[str, Server]:
        backend = backend_name(environment)
        stats = {
            row["svname"]: row
            for row in csv.DictReader(io.StringIO(self.command("show stat").lstrip("# ")))
            if row.get("pxname") == backend and row["svname"] not in {"FRONTEND", "BACKEND"}
        }
        if not stats:
            raise SwitchError(
                f"HAProxy has no backend {backend}: it runs with another deploy.yaml; restart "
                "`deploybot proxy --config` with this one"
            )
        states = _servers_state(self.command(f"show servers state {backend}"))
        found = {}
        for name, row in stats.items():
            op_state, admin = states.get(name, ("0", 0))
            found[name] = Server(
                colour=name,
                admin="maint"
                if admin & _FORCED_MAINT
                else "drain"
                if admin & _FORCED_DRAIN
                else "ready",
                up=op_state == _RUNNING,
                sessions=int(row["scur"] or 0),
                counters=Counters(
                    int(row["hrsp_5xx"] or 0),
                    int(row["econ"] or 0),
                    int(row["eresp"] or 0),
                    sum(int(row[f"hrsp_{kind}"] or 0) for kind in _RESPONSE_CLASSES),
                ),
                address=row.get("addr") or "",
            )
        return found

    def route(self, environment: str, colour: str, spare: str) -> None:
        backend = backend_name(environment)
        self._set(
            [
                f"set server {backend}/{colour} state ready",
                f"set server {backend}/{colour} health up",
                f"set server {backend}/{spare} state drain",
            ]
        )

    def retire(self, environment: str, colour: str) -> None:
        self._set([f"set server {backend_name(environment)}/{colour} state maint"])

    def wait_drained(self, environment: str, colour: str, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while True:
            if self.servers(environment)[colour].sessions == 0:
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)


def _servers_state(text: str) -> dict[str, tuple[str, int]]:
    """server name -> (srv_op_state, srv_admin_state) from `show servers state <backend>`."""
    found = {}
    for line in text.splitlines()[1:]:
        if line.startswith("#") or not line.strip():
            continue
        fields = line.split()
        found[fields[3]] = (fields[5], int(fields[6]))
    return found
