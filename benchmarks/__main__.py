"""Run every benchmark suite, or the ones named: python -m benchmarks [--quick] [suite ...]."""

from __future__ import annotations

import argparse
import importlib
import sys

# Each module exposes main(quick: bool) -> int and prints its own side-by-side table.
SUITES: dict[str, str] = {
    "webhook": "benchmarks.webhook",
    "pipeline": "benchmarks.pipeline",
    "tutor": "benchmarks.tutor",
    "release": "benchmarks.release",
    "deploy": "benchmarks.deploy",
    "github-deploy": "benchmarks.github_deploy",
    "faults": "benchmarks.faults",
    "install": "benchmarks.install",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="just bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer iterations (CI smoke)")
    parser.add_argument(
        "suites", nargs="*", help=f"suites to run (default all): {', '.join(SUITES)}"
    )
    args = parser.parse_args(argv)
    unknown = sorted(set(args.suites) - set(SUITES))
    if unknown:
        parser.error(f"unknown suite(s) {', '.join(unknown)}; known: {', '.join(SUITES) or 'none'}")
    if not SUITES:
        print("not implemented yet: no benchmark suite has landed (issues #3, #4, #5)")
        return 2
    status = 0
    for name in args.suites or list(SUITES):
        module = importlib.import_module(SUITES[name])
        status |= module.main(args.quick)
    return status


if __name__ == "__main__":
    sys.exit(main())
