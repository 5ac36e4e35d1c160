"""This repository's PR-blocking CI stages on its own HEAD, timed against the 3-minute budget."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Final

from benchmarks.report import Row, table
from workers.check_output import conclusion
from workers.checkout import Workspace
from workers.matrix import Stage, load_matrix
from workers.planner import plan
from workers.sources import MATRIX_PATH, stage_env
from workers.stage_runner import StageResult, run_stage

ROOT = Path(__file__).resolve().parents[1]
BUDGET_S: Final = 180.0
QUICK_STAGES: Final = ("lint", "typecheck")
BASELINE: Final = "baseline: python -c pass"
TAIL_LINES: Final = 8


def _git(*args: str) -> str:
    return subprocess.run(  # noqa: S603 - fixed argv
        ["git", *args],  # noqa: S607 - git from PATH
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def _checkout_head(tmp: Path) -> tuple[Path, str]:
    """A clean checkout of HEAD, fetched the way a worker fetches a commit."""
    sha = _git("rev-parse", "HEAD").strip()
    return Workspace(tmp / "workspaces", ROOT.as_uri()).checkout(sha), sha


def main(quick: bool) -> int:
    with tempfile.TemporaryDirectory(prefix="deploybot-bench-") as tmp:
        checkout, sha = _checkout_head(Path(tmp))
        matrix = load_matrix((checkout / MATRIX_PATH).read_text(encoding="utf-8"), MATRIX_PATH)
        # Every blocking stage a PR touching everything would run (eval included); --quick keeps
        # the two cheapest.
        stages = [
            p.stage
            for p in plan(matrix, "pr", None)
            if p.stage.blocking and (not quick or p.stage.name in QUICK_STAGES)
        ]
        logs = Path(tmp) / "logs"
        env = stage_env()
        # The cost of starting a process through the same runner, the floor under every stage.
        command = (sys.executable, "-c", "pass")
        trivial = Stage("baseline", command, frozenset({"pr"}), True, (), 60, 0, False)
        results: list[tuple[str, StageResult]] = [
            (BASELINE, run_stage(trivial, checkout, logs, env))
        ]
        for stage in stages:
            print(f"pipeline: running {stage.name} ({' '.join(stage.command)}) ...", flush=True)
            results.append((f"stage {stage.name}", run_stage(stage, checkout, logs, env)))
        rows = [Row(name, [result.duration_s]) for name, result in results]
        print(
            table(f"pipeline: PR-blocking stages on HEAD {sha[:10]} (one run each)", rows, BASELINE)
        )
        # Judged as the check run would be: a stage's "neutral" (exit 78) warns, it does not fail.
        verdicts = {s.name: conclusion(s, r) for s, (_, r) in zip(stages, results[1:], strict=True)}
        failed = [
            (name, result)
            for name, result in results[1:]
            if verdicts[name.removeprefix("stage ")] in {"failure", "timed_out"}
        ]
        for name, result in failed:
            ending = "timed out" if result.timed_out else f"exit {result.exit_code}"
            tail = "\n    ".join(result.log_tail.splitlines()[-TAIL_LINES:])
            print(f"{name} failed ({ending}); end of its log:\n    {tail}")
        total = sum(result.duration_s for _, result in results[1:])
    verdict = "within" if total <= BUDGET_S else "OVER"
    scope = "+".join(name.removeprefix("stage ") for name, _ in results[1:])
    print(f"PR-blocking total ({scope}): {total:.1f} s, {verdict} the {BUDGET_S:.0f} s budget")
    return 0 if total <= BUDGET_S and not failed else 1
