"""`just security`: bandit over the packages, and pip-audit reported honestly.

pip-audit cannot reach a vulnerability database from some machines: it then skips every package
("not found on PyPI and could not be audited") and still prints "No known vulnerabilities found".
This stage counts those skips and says "could not audit N of M packages" with exit status 78,
which the CI matrix reports as neutral (a warning), or as a failure with --strict-audit.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PACKAGES = ("core", "bot", "workers", "deploy", "tutor", "deploybot", "tools")
# The exit status the stage runner reports as "neutral": it warns without failing the PR.
NEUTRAL_EXIT = 78
ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Verdict:
    exit_code: int
    lines: tuple[str, ...]


def audit_verdict(report: dict[str, Any], *, strict: bool) -> Verdict:
    """Judge a `pip-audit -f json` report (pure)."""
    dependencies = report.get("dependencies", [])
    skipped = [d for d in dependencies if "skip_reason" in d]
    vulnerable = [d for d in dependencies if d.get("vulns")]
    lines = [
        f"{d['name']} {d.get('version', '?')}: {v['id']} "
        f"(fix: {', '.join(v.get('fix_versions', [])) or 'none'})"
        for d in vulnerable
        for v in d["vulns"]
    ]
    if vulnerable:
        lines.append(f"pip-audit: {len(lines)} known vulnerabilities in {len(vulnerable)} packages")
        return Verdict(1, tuple(lines))
    audited = len(dependencies) - len(skipped)
    if skipped:
        lines.append(
            f"pip-audit: could not audit {len(skipped)} of {len(dependencies)} packages "
            f"(no vulnerability database reachable?); {audited} audited, none vulnerable"
        )
        lines += [f"  not audited: {d['skip_reason']}" for d in skipped[:10]]
        if len(skipped) > 10:
            lines.append(f"  … and {len(skipped) - 10} more")
        return Verdict(1 if strict else NEUTRAL_EXIT, tuple(lines))
    lines.append(f"pip-audit: {audited} packages audited, no known vulnerabilities")
    return Verdict(0, tuple(lines))


def run_bandit() -> int:
    """bandit at medium severity and confidence; its own report goes to the log."""
    done = subprocess.run(  # noqa: S603 (fixed argv)
        [
            sys.executable,
            "-m",
            "bandit",
            "--quiet",
            "--recursive",
            "--severity-level",
            "medium",
            "--confidence-level",
            "medium",
            "--configfile",
            "pyproject.toml",
            *PACKAGES,
        ],
        cwd=ROOT,
        check=False,
    )
    print(f"bandit: {'no medium or high findings' if done.returncode == 0 else 'findings above'}")
    return done.returncode


def run_pip_audit(strict: bool) -> int:
    done = subprocess.run(
        [sys.executable, "-m", "pip_audit", "--progress-spinner", "off", "--format", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        print("pip-audit did not produce a report:\n  " + "\n  ".join(tail))
        return 1 if strict else NEUTRAL_EXIT
    verdict = audit_verdict(report, strict=strict)
    print("\n".join(verdict.lines))
    return verdict.exit_code


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="just security", description=__doc__)
    parser.add_argument("--strict-audit", action="store_true", help="fail when pip-audit skips")
    args = parser.parse_args(argv)
    bandit = run_bandit()
    audit = run_pip_audit(args.strict_audit)
    if bandit != 0 or audit == 1:
        return 1
    return audit


if __name__ == "__main__":
    sys.exit(main())
