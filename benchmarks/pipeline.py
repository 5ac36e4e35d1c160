"""This repository's PR-blocking CI stages on its own HEAD: each stage run twice in the same run,
bare and in its sandbox, in the same dependency environment, timed against the 3-minute budget.

The environment is built once, in the install sandbox, and cached under .deploybot/bench/ so a
second run measures the stages alone; its build time is printed when it happens.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path
from typing import Final

from benchmarks.report import Row, table
from core.settings import Settings
from workers.checkout import Workspace
from workers.ci import sandbox
from workers.ci.envcache import activate, ensure_env, is_input
from workers.ci.matrix import Stage, load_matrix
from workers.ci.planner import plan
from workers.ci.stage_env import MATRIX_PATH, ci_extras, sandbox_host
from workers.ci.stage_output import conclusion
from workers.ci.stage_runner import StageResult, run_stage
from workers.conclusions import is_failed

ROOT = Path(__file__).resolve().parents[1]
CACHE: Final = ROOT / ".deploybot" / "bench"
BUDGET_S: Final = 180.0
QUICK_STAGES: Final = ("lint", "typecheck")
TAIL_LINES: Final = 8


def _head() -> str:
    return subprocess.run(
        ["git", "rev-parse", "HEAD"],  # noqa: S607 - git from PATH
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def _run(
    stage: Stage, workspace: Workspace, sha: str, tmp: Path, venv: Path, box: bool
) -> StageResult:
    """One stage in a fresh checkout of its own, as a worker runs it (sandboxed or bare)."""
    host = sandbox_host(Settings(data_dir=CACHE))
    copy = workspace.checkout(sha, tmp / f"{stage.name}-{'sandboxed' if box else 'bare'}")
    sandbox.give(copy, host)
    wrapped = host.stage(copy, venv) if box else None
    return run_stage(stage, copy, tmp / "logs", activate(venv, host.env), wrapped)


def main(quick: bool) -> int:
    refused = sandbox.unavailable()
    if refused is not None:
        print(f"pipeline: cannot sandbox stages here: {refused}")
        return 1
    with tempfile.TemporaryDirectory(prefix="deploybot-bench-") as directory:
        tmp = Path(directory)
        sha = _head()
        workspace = Workspace(CACHE / "workspaces", ROOT.as_uri())
        workspace.fetch(sha)
        matrix = load_matrix(workspace.read_file_at(sha, MATRIX_PATH), MATRIX_PATH)
        started = time.monotonic()
        inputs = workspace.files_at(sha, is_input)
        host = sandbox_host(Settings(data_dir=CACHE))
        venv = ensure_env(inputs, CACHE / "envs", host, ci_extras(inputs))
        print(f"pipeline: dependency environment ready in {time.monotonic() - started:.1f} s")
        # Every blocking stage a PR touching everything would run (eval included); --quick keeps
        # the two cheapest.
        stages = [
            p.stage
            for p in plan(matrix, "pr", None)
            if p.stage.blocking and (not quick or p.stage.name in QUICK_STAGES)
        ]
        rows: list[Row] = []
        failed: list[tuple[str, StageResult]] = []
        total = 0.0
        for stage in stages:
            print(f"pipeline: running {stage.name} ({' '.join(stage.command)}) ...", flush=True)
            bare = _run(stage, workspace, sha, tmp, venv, box=False)
            boxed = _run(stage, workspace, sha, tmp, venv, box=True)
            rows += [
                Row(f"{stage.name}: bare", [bare.duration_s]),
                Row(f"{stage.name}: sandboxed", [boxed.duration_s]),
            ]
            total += boxed.duration_s
            # Judged as the check run would be: "neutral" (exit 78) warns, it does not fail.
            if is_failed(conclusion(stage, boxed)):
                failed.append((stage.name, boxed))
        for index in range(0, len(rows), 2):
            print(table(f"pipeline on HEAD {sha[:10]}", rows[index : index + 2], rows[index].name))
        for name, result in failed:
            ending = "timed out" if result.timed_out else f"exit {result.exit_code}"
            tail = "\n    ".join(result.log_tail.splitlines()[-TAIL_LINES:])
            print(f"{name} failed in its sandbox ({ending}); end of its log:\n    {tail}")
    verdict = "within" if total <= BUDGET_S else "OVER"
    scope = "+".join(stage.name for stage in stages)
    print(
        f"PR-blocking total, sandboxed ({scope}): {total:.1f} s, {verdict} the "
        f"{BUDGET_S:.0f} s budget"
    )
    return 0 if total <= BUDGET_S and not failed else 1
