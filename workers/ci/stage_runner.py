"""Run one stage's command in a checkout: in its sandbox, no shell, a timeout, output to a log,
annotations out."""

from __future__ import annotations

import contextlib
import functools
import os
import shlex
import signal
import stat
import subprocess
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from workers.ci import sandbox
from workers.ci.annotations import Annotation, parse, strip_ansi
from workers.ci.matrix import Stage
from workers.ci.sandbox import Sandbox

TAIL_LINES = 60
# Enough of the log's end to hold TAIL_LINES long lines without reading a huge log whole.
_TAIL_BYTES = 256 * 1024
# Tools print findings at the start (ruff, mypy) or the end (pytest's summary) of their output;
# a log larger than twice this is parsed from its head and its tail only.
_PARSE_BYTES = 8 * 1024 * 1024
# After SIGTERM at the timeout, how long the stage may clean up before SIGKILL.
_GRACE_S = 5.0
EXIT_NOT_FOUND = 127  # as a shell would report a missing command
# A source file is read back (to pin a failing test to its `def` line) only up to this size.
_MAX_SOURCE_BYTES = 1024 * 1024
# What a stage's log keeps of its output; the rest is read and dropped.
MAX_LOG_BYTES = 64 * 1024 * 1024
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class StageResult:
    exit_code: int | None  # None when the stage was killed at its timeout
    timed_out: bool
    duration_s: float
    log_path: Path
    log_tail: str
    annotations: tuple[Annotation, ...]


def _kill_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # the whole group has already exited
        os.killpg(pgid, sig)


def _wait(proc: subprocess.Popen[bytes], timeout_s: float) -> bool:
    """Wait for the stage; at the timeout stop its whole process group. True if it timed out."""
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _kill_group(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=_GRACE_S)
        except subprocess.TimeoutExpired:
            _kill_group(proc.pid, signal.SIGKILL)
            proc.wait()
        return True
    # Children the command left behind (servers, daemons) must not outlive the stage.
    _kill_group(proc.pid, signal.SIGKILL)
    return False


def _started(pid: int) -> str | None:
    """When pid started (clock ticks since boot), to tell it from a later process with its id."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def _stop_stale(pid_path: Path) -> None:
    """Stop a stage a dead worker left running: it would write into this log and this checkout."""
    try:
        pid_text, started = pid_path.read_text(encoding="ascii").split()
        pid = int(pid_text)
    except (OSError, ValueError):
        return
    if _started(pid) == started:
        _kill_group(pid, signal.SIGKILL)


def log_tail(text: str, lines: int = TAIL_LINES) -> str:
    """The last lines of a log as a person would see them: no colours, progress bars resolved."""
    # Not splitlines(): a bare "\r" redraws a progress bar in place, it does not end a line.
    lines_in = strip_ansi(text).replace("\r\n", "\n").split("\n")
    shown = [line.rsplit("\r", 1)[-1].rstrip() for line in lines_in]
    return "\n".join("\n".join(shown).strip("\n").split("\n")[-lines:])


def _read_ends(path: Path, head: int, tail: int) -> str:
    """The first head and last tail bytes of a file (all of it when it is small), as text."""
    with path.open("rb") as log:
        size = log.seek(0, os.SEEK_END)
        log.seek(0)
        if size <= head + tail:
            data = log.read()
        else:
            first = log.read(head)
            log.seek(size - tail)
            data = first + b"\n" + log.read()
    return data.decode("utf-8", errors="replace")


def _copy(pipe: int, log: BinaryIO) -> None:
    """The stage's output into its log, up to MAX_LOG_BYTES; beyond, drained and dropped."""
    kept = 0
    while True:
        try:
            chunk = os.read(pipe, _CHUNK)
        except OSError:  # closed under us: the stage outlived its grace period
            break
        if not chunk:
            break
        if kept < MAX_LOG_BYTES:
            log.write(chunk[: MAX_LOG_BYTES - kept])
            log.flush()  # the log on disk follows the stage as it runs
            kept += len(chunk)
            if kept >= MAX_LOG_BYTES:
                log.write(f"\ndeploybot: output beyond {MAX_LOG_BYTES >> 20} MB dropped\n".encode())
    log.flush()


def read_source(root: Path, path: str) -> str | None:
    """A regular file under root, as text; None for anything else. The stage wrote this tree:
    a symlink (to the key, to /dev/zero), a FIFO or a huge file is never followed or read."""
    target = (root / path).resolve(strict=False)
    if not target.is_relative_to(root.resolve()) or target != root.resolve() / path:
        return None
    try:
        fd = os.open(target, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as source:
        if not stat.S_ISREG(os.fstat(source.fileno()).st_mode):
            return None
        return source.read(_MAX_SOURCE_BYTES).decode("utf-8", errors="replace")


def run_stage(
    stage: Stage,
    workdir: Path,
    log_dir: Path,
    env: Mapping[str, str],
    box: Sandbox | None = None,
) -> StageResult:
    """Run stage.command in workdir with exactly env, inside `box` when given (bwrap itself
    starts with env, so even the sandbox's pid 1 holds nothing else); the log goes to
    log_dir/<stage>.log."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{stage.name}.log"
    pid_path = log_dir / f"{stage.name}.pid"
    _stop_stale(pid_path)
    started = time.monotonic()
    log_path.write_bytes(f"$ {shlex.join(stage.command)}\n".encode())
    argv = sandbox.argv(box, stage.command) if box is not None else list(stage.command)
    with log_path.open("ab") as log:
        timed_out, exit_code = _run_logged(stage, argv, workdir, env, log, pid_path)
    duration = time.monotonic() - started
    output = _read_ends(log_path, _PARSE_BYTES, _PARSE_BYTES)
    root = workdir.resolve()
    # Read once per file, however many failures a log names in it.
    source = functools.cache(lambda path: read_source(root, path))
    return StageResult(
        exit_code=exit_code,
        timed_out=timed_out,
        duration_s=duration,
        log_path=log_path,
        log_tail=log_tail(_read_ends(log_path, 0, _TAIL_BYTES)),
        annotations=tuple(parse(output, str(root), source)),
    )


def _run_logged(
    stage: Stage,
    argv: list[str],
    workdir: Path,
    env: Mapping[str, str],
    log: BinaryIO,
    pid_path: Path,
) -> tuple[bool, int | None]:
    """(timed out, exit code) of argv run to its end or its timeout, its output copied to log."""
    try:
        # argv list, no shell: nothing in the command is interpreted; its own session makes
        # the stage and everything it spawns one process group to stop at the timeout. Its
        # output comes through a pipe: the stage never holds the log file itself (it could
        # truncate, preallocate or grow it without bound).
        proc = subprocess.Popen(  # noqa: S603
            argv,
            cwd=workdir,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except OSError as exc:  # the command is missing or not executable
        log.write(f"deploybot: cannot start {stage.command[0]!r}: {exc.strerror}\n".encode())
        return False, EXIT_NOT_FOUND
    assert proc.stdout is not None  # noqa: S101 - Popen was given stdout=PIPE
    copier = threading.Thread(target=_copy, args=(proc.stdout.fileno(), log), daemon=True)
    copier.start()
    pid_path.write_text(f"{proc.pid} {_started(proc.pid)}\n", encoding="ascii")
    timed_out = _wait(proc, stage.timeout_s)
    copier.join(timeout=_GRACE_S)
    proc.stdout.close()
    copier.join(timeout=_GRACE_S)
    pid_path.unlink(missing_ok=True)
    if timed_out:
        log.write(f"\ndeploybot: timed out after {stage.timeout_s} s\n".encode())
        return True, None
    return False, proc.returncode
