"""Serve a release as a local process: `python -m tutor` in the release's source tree (which holds
its model blob), for the embedded demo and hosts without Docker; no image needed.

Each process is started through a short-lived launcher, in a session of its own, so it is nobody's
child: it outlives the command that started it (a colour must keep serving after `deploybot deploy`
exits or dies) and init reaps it. run/<name>.json records its pid and its kernel start time: a pid
the kernel has since given to another process is never signalled.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Final

from core.errors import BackendError
from deploy.backends.base import Artifact, Served

STOP_TIMEOUT_S: Final = 10.0
MODULE_TIMEOUT_S: Final = 300.0
# What the served process inherits; nothing else of the caller's environment (tokens, keys).
_INHERITED: Final = ("PATH", "LANG", "LC_ALL", "TZ")


def _started(pid: int) -> str | None:
    """The kernel's start time of pid (field 22 of /proc/<pid>/stat), None if it is gone or a
    zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return None if fields[0] in {"Z", "X"} else fields[19]


_PACKAGES: Final = str(Path(__file__).resolve().parents[2])
_LAUNCHER: Final = (
    f"import sys; sys.path.insert(0, {_PACKAGES!r}); "
    "from deploy.backends.process import launch; launch(sys.argv[1:])"
)


def launch(argv: list[str]) -> None:
    """The launcher's work: [record, log, about JSON, command...] → the command started in a
    session of its own, its output to log, and the record written (what `about` says, the pid,
    its kernel start time) before the launcher exits: a caller killed meanwhile still leaves the
    record of what it started."""
    record, log_path, about, command = Path(argv[0]), Path(argv[1]), argv[2], argv[3:]
    with log_path.open("wb") as log:
        child = subprocess.Popen(  # noqa: S603 - the tutor command the backend built
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    _write(record, {**json.loads(about), "pid": child.pid, "started": _started(child.pid)})


class ProcessBackend:
    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir

    def _record(self, name: str) -> Path:
        return self.run_dir / f"{name}.json"

    def _log(self, name: str) -> Path:
        return self.run_dir / f"{name}.log"

    def _environment(self, tree: Path, artifact: Artifact, port: int) -> dict[str, str]:
        env = {k: os.environ[k] for k in _INHERITED if k in os.environ}
        return {
            **env,
            "HOME": str(tree),
            "PYTHONPATH": str(tree),
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "TUTOR_COMMIT": artifact.commit,
        }

    def start(self, name: str, artifact: Artifact, port: int, labels: dict[str, str]) -> Served:
        tree = artifact.require_tree()
        self.stop(name)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        about = {"commit": artifact.commit, "port": port, "tree": str(tree), "labels": labels}
        argv = [sys.executable, "-I", "-c", _LAUNCHER, str(self._record(name))]
        argv += [str(self._log(name)), json.dumps(about), sys.executable, "-m", "tutor"]
        try:
            subprocess.run(  # noqa: S603 - fixed argv: this interpreter's tutor
                argv,
                cwd=tree,
                env=self._environment(tree, artifact, port),
                capture_output=True,
                text=True,
                timeout=30,
                check=True,
                # Out of the caller's process group: a caller killed with its group (a worker
                # SIGKILLed mid-start) cannot take the launcher with it before the record of
                # the started tutor is written, which would leave a tutor no one can stop.
                start_new_session=True,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise BackendError(f"cannot start {name}: {exc}") from exc
        return Served(name, port, artifact.commit)

    def _running(self, name: str) -> dict[str, Any] | None:
        try:
            record: dict[str, Any] = json.loads(self._record(name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        pid = int(record["pid"])
        if record.get("started") is None or _started(pid) != record["started"]:
            return None
        return record

    def alive(self, name: str) -> bool:
        return self._running(name) is not None

    def stop(self, name: str) -> None:
        record = self._running(name)
        if record is not None:
            pid = int(record["pid"])
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGTERM)
            deadline = time.monotonic() + STOP_TIMEOUT_S
            while self._running(name) is not None:
                if time.monotonic() > deadline:
                    os.killpg(pid, signal.SIGKILL)
                    deadline = time.monotonic() + STOP_TIMEOUT_S
                time.sleep(0.05)
        self._record(name).unlink(missing_ok=True)

    def run_module(self, name: str, module: str) -> tuple[int, str]:
        record = self._running(name)
        if record is None:
            return 1, f"{name} is not running"
        tree = Path(record["tree"])
        artifact = Artifact(str(record["commit"]), "", tree)
        try:
            done = subprocess.run(  # noqa: S603 - fixed argv: this interpreter, a tutor module
                [sys.executable, "-m", module],
                cwd=tree,
                env=self._environment(tree, artifact, int(record["port"])),
                capture_output=True,
                text=True,
                timeout=MODULE_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return 1, f"python -m {module} took longer than {MODULE_TIMEOUT_S:.0f} s"
        return done.returncode, done.stdout + done.stderr

    def logs(self, name: str, lines: int = 30) -> str:
        try:
            text = self._log(name).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


def _write(path: Path, data: dict[str, Any]) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(data), encoding="utf-8")
    os.replace(temporary, path)
