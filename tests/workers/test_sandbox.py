"""The sandbox's own rules, on the real bwrap: nothing shown again uncovers what is hidden, the
stage never holds its log, and what it prints is bounded."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from workers.ci import sandbox
from workers.ci.matrix import Stage
from workers.ci.sandbox import Sandbox
from workers.ci.stage_runner import MAX_LOG_BYTES, run_stage

pytestmark = pytest.mark.skipif(
    sandbox.unavailable() is not None and os.environ.get("CI") != "true",
    reason=f"no stage sandbox here: {sandbox.unavailable()}",
)


def run(box: Sandbox, script: str) -> str:
    command = [sys.executable, "-c", script]
    done = subprocess.run(
        sandbox.argv(box, command), capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"}
    )
    return done.stdout + done.stderr


def test_a_directory_shown_again_never_uncovers_what_is_hidden_inside_it(
    shared_dir: Path,
) -> None:
    app = shared_dir / "app"  # the worker's install, say, holding its data dir and its key
    (app / "data" / "workspaces").mkdir(parents=True)
    (app / "data" / "workspaces" / "other-pr.log").write_text("ANOTHER PULL REQUEST'S LOG")
    key = app / "key.pem"
    key.write_text("-----BEGIN RSA PRIVATE KEY----- canary")
    for path in (app, app / "data", app / "data" / "workspaces"):
        path.chmod(0o755)
    key.chmod(0o644)
    (shared_dir / "work").mkdir()
    box = Sandbox(
        workdir=shared_dir / "work",
        hidden=(app / "data", Path.home()),
        hidden_files=(key,),
        read_only=(app, *sandbox.interpreter_paths()),
        as_root=os.geteuid() == 0,
    )
    seen = run(
        box,
        f"import pathlib; d = pathlib.Path({str(app)!r})\n"
        "print(sorted(p.name for p in (d / 'data').rglob('*')))\n"
        "try: print((d / 'key.pem').read_text())\n"
        "except OSError as e: print(type(e).__name__)\n",
    )
    assert "ANOTHER PULL REQUEST" not in seen
    assert "canary" not in seen
    assert seen.splitlines()[0] == "[]"


def test_the_stage_writes_its_log_through_the_worker_and_cannot_grow_it_unbounded(
    shared_dir: Path, tmp_path: Path
) -> None:
    work = shared_dir / "work"
    work.mkdir()
    if os.geteuid() == 0:
        os.chown(work, sandbox.NOBODY, sandbox.NOBODY)
    script = (
        "import os, sys\n"
        "try: os.ftruncate(1, 1 << 40); print('TRUNCATED')\n"
        "except OSError as e: print('ftruncate', type(e).__name__, flush=True)\n"
        "chunk = b'x' * (1 << 20)\n"
        f"for _ in range({MAX_LOG_BYTES >> 20} + 8): sys.stdout.buffer.write(chunk)\n"
        "print('THE END')\n"
    )
    stage = Stage(
        "noisy", (sys.executable, "-c", script), frozenset({"pr"}), True, (), 120, 0, False
    )
    box = Sandbox(
        workdir=work,
        hidden=(Path.home(),),
        read_only=sandbox.interpreter_paths(),
        as_root=os.geteuid() == 0,
    )
    result = run_stage(stage, work, tmp_path / "logs", {"PATH": "/usr/bin:/bin"}, box)
    log = result.log_path.read_bytes()
    assert b"\nTRUNCATED\n" not in log
    assert b"\nftruncate " in log  # a pipe, not a file: there is nothing to truncate
    assert MAX_LOG_BYTES < result.log_path.stat().st_size < MAX_LOG_BYTES + 4096
    assert log.endswith(b"output beyond 64 MB dropped\n")
    assert result.exit_code == 0  # drained to the end: the stage was never blocked
