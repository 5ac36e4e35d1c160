"""Running a stage for real: argv without a shell, exact environment, timeout, log and tail."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from workers.ci.matrix import Stage
from workers.ci.stage_runner import EXIT_NOT_FOUND, TAIL_LINES, run_stage

ROOT = Path(__file__).resolve().parents[2]
ENV = {"PATH": os.environ["PATH"], "LANG": "C.UTF-8"}


def _stage(*argv: str, name: str = "demo", timeout_s: int = 60) -> Stage:
    return Stage(name, tuple(argv), frozenset({"pr"}), True, (), timeout_s, 0, False)


def _python(code: str, **kwargs: object) -> Stage:
    return _stage(sys.executable, "-c", code, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    path = tmp_path / "checkout"
    path.mkdir()
    return path


def test_a_passing_stage_runs_in_the_workdir_and_logs_its_output(
    workdir: Path, tmp_path: Path
) -> None:
    result = run_stage(
        _python("import os; print('cwd', os.getcwd())", name="lint"),
        workdir,
        tmp_path / "logs",
        ENV,
    )
    assert (result.exit_code, result.timed_out, result.annotations) == (0, False, ())
    assert result.log_path == tmp_path / "logs" / "lint.log"
    log = result.log_path.read_text(encoding="utf-8")
    assert f"cwd {workdir}" in log
    assert log.startswith(f"$ {sys.executable} -c ")
    assert result.log_tail.endswith(f"cwd {workdir}")
    assert result.duration_s > 0


def test_arguments_reach_the_program_verbatim_without_a_shell(
    workdir: Path, tmp_path: Path
) -> None:
    hostile = "$(touch pwned); `touch pwned2` && echo $HOME > pwned3"
    stage = _python("import sys; print(repr(sys.argv[1]))", name="argv")
    stage = _stage(*stage.command, hostile, name="argv")
    result = run_stage(stage, workdir, tmp_path / "logs", ENV)
    assert result.exit_code == 0
    assert repr(hostile) in result.log_tail
    assert list(workdir.iterdir()) == []


def test_the_environment_is_exactly_the_one_passed_in(workdir: Path, tmp_path: Path) -> None:
    code = "import os, json; print(json.dumps(sorted(os.environ)))"
    env = {**ENV, "STAGE_ONLY": "1"}
    result = run_stage(_python(code), workdir, tmp_path / "logs", env)
    names = result.log_tail.splitlines()[-1]
    assert "STAGE_ONLY" in names
    assert "HOME" not in names  # not inherited from the worker


def test_a_failing_stage_reports_its_exit_code_and_annotations(
    workdir: Path, tmp_path: Path
) -> None:
    (workdir / "bad.py").write_text("import os\n", encoding="utf-8")
    stage = _stage(
        sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", "."
    )
    result = run_stage(stage, workdir, tmp_path / "logs", ENV)
    assert result.exit_code == 1
    assert not result.timed_out
    assert [(a.path, a.start_line, a.title) for a in result.annotations] == [
        ("bad.py", 1, "ruff F401")
    ]


def test_a_missing_program_fails_like_a_shell_would_say(workdir: Path, tmp_path: Path) -> None:
    result = run_stage(_stage("no-such-program-xyz", "lint"), workdir, tmp_path / "logs", ENV)
    assert result.exit_code == EXIT_NOT_FOUND
    assert "cannot start 'no-such-program-xyz'" in result.log_tail


def _gone(pid: int) -> bool:
    """True once pid no longer runs (exited, or a zombie waiting for init to reap it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state == "Z"


def _wait_gone(pid: int) -> bool:
    deadline = time.monotonic() + 10
    while not _gone(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


SPAWN_SLEEPER = """
import subprocess, sys
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
print("sleeper-pid", child.pid, flush=True)
"""


def _sleeper(log: str) -> int:
    (pid,) = re.findall(r"^sleeper-pid (\d+)$", log, re.MULTILINE)
    return int(pid)


def test_a_stage_over_its_timeout_is_killed_with_everything_it_spawned(
    workdir: Path, tmp_path: Path
) -> None:
    code = SPAWN_SLEEPER + "import time; time.sleep(300)\n"
    result = run_stage(_python(code, timeout_s=1), workdir, tmp_path / "logs", ENV)
    assert (result.exit_code, result.timed_out) == (None, True)
    assert result.log_tail.endswith("deploybot: timed out after 1 s")
    assert _wait_gone(_sleeper(result.log_path.read_text(encoding="utf-8")))


def test_processes_left_behind_by_a_finished_stage_are_stopped(
    workdir: Path, tmp_path: Path
) -> None:
    result = run_stage(_python(SPAWN_SLEEPER), workdir, tmp_path / "logs", ENV)
    assert result.exit_code == 0
    assert _wait_gone(_sleeper(result.log_tail))


def test_the_tail_is_the_last_lines_without_colours_or_progress_redraws(
    workdir: Path, tmp_path: Path
) -> None:
    code = (
        "for i in range(200): print(f'\\x1b[31mline {i}\\x1b[0m')\n"
        "print('progress 10%\\rprogress 50%\\rprogress 100%')\n"
        "print('x' * 100_000)\n"
    )
    result = run_stage(_python(code), workdir, tmp_path / "logs", ENV)
    lines = result.log_tail.split("\n")
    assert len(lines) == TAIL_LINES
    assert lines[-3:] == ["line 199", "progress 100%", "x" * 100_000]
    assert lines[0] == f"line {200 - TAIL_LINES + 2}"
    assert "\x1b" not in result.log_tail
    assert "\x1b[31mline 0" in result.log_path.read_text(encoding="utf-8")  # the log keeps all


def test_a_rerun_replaces_the_stage_log(workdir: Path, tmp_path: Path) -> None:
    run_stage(_python("print('first')"), workdir, tmp_path / "logs", ENV)
    result = run_stage(_python("print('second')"), workdir, tmp_path / "logs", ENV)
    assert "first" not in result.log_path.read_text(encoding="utf-8")


def test_a_stage_left_running_by_a_killed_worker_is_stopped_by_the_next_run(
    workdir: Path, tmp_path: Path
) -> None:
    logs = tmp_path / "logs"
    # A worker process that runs a long stage, then dies by SIGKILL mid-stage.
    worker_code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from workers.ci.matrix import Stage\n"
        "from workers.ci.stage_runner import run_stage\n"
        f"code = {SPAWN_SLEEPER + 'import time; time.sleep(300)'!r}\n"
        "stage = Stage('test', (sys.executable, '-c', code), frozenset({'pr'}), True, (), 600, 0,"
        " False)\n"
        f"run_stage(stage, Path({str(workdir)!r}), Path({str(logs)!r}), {ENV!r})\n"
    )
    worker = subprocess.Popen([sys.executable, "-c", worker_code], cwd=ROOT)
    log = logs / "test.log"
    deadline = time.monotonic() + 30
    while not (log.exists() and re.search(r"^sleeper-pid \d+$", log.read_text(), re.MULTILINE)):
        assert time.monotonic() < deadline, "the stage never started"
        time.sleep(0.05)
    sleeper = _sleeper(log.read_text(encoding="utf-8"))
    worker.kill()
    worker.wait()
    assert not _gone(sleeper)  # the orphaned stage outlived its worker
    result = run_stage(_python("print('rerun')", name="test"), workdir, logs, ENV)
    assert _wait_gone(sleeper)
    assert result.exit_code == 0
    assert "sleeper" not in result.log_path.read_text(encoding="utf-8")
