"""The shape the code keeps where a run's logic lives: no function in workers/ or deploy/ is
longer than 60 lines (a longer one does two things; name them)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 60


def test_no_function_in_workers_or_deploy_is_longer_than_60_lines() -> None:
    found = []
    for package in ("workers", "deploy"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    lines = (node.end_lineno or node.lineno) - node.lineno + 1
                    if lines > MAX_LINES:
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}: {lines}")
    assert found == []
