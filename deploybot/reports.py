"""`deploybot history` and `deploybot metrics`: what the status page shows, for a terminal or a
script (`--json`), from the same data (deploybot/status_page.py's `collect`)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from core.errors import DeploybotError
from core.settings import Settings
from deploybot import status_page


def _environments(args: argparse.Namespace) -> list[dict[str, Any]] | None:
    try:
        settings = Settings.from_env()
    except DeploybotError as exc:
        print(f"deploybot {args.command}: {exc}", file=sys.stderr)
        return None
    found: list[dict[str, Any]] = status_page.collect(settings.data_dir, None)["environments"]
    if args.env is not None:
        found = [env for env in found if env["name"] == args.env]
        if not found:
            print(
                f"deploybot {args.command}: no ledger for {args.env!r} under "
                f"{settings.data_dir / 'ledger'} (nothing was ever deployed there)",
                file=sys.stderr,
            )
            return None
    return found


def _report(args: argparse.Namespace, key: str, lines: Callable[[Any], list[str]]) -> int:
    """Each environment's `key` of the status page's data: as JSON, or `lines` of it."""
    found = _environments(args)
    if found is None:
        return 1
    if args.json:
        print(json.dumps({env["name"]: env[key] for env in found}, indent=2))
        return 0
    for env in found:
        print("\n".join([env["name"], *lines(env[key])]))
    return 0


def _history_lines(recent: list[dict[str, Any]]) -> list[str]:
    return [
        f"  {run['at']:<30} {run['kind']:<9} {run['commit'][:12]:<13} {run['outcome']:<13} "
        f"{run['by']}"
        for run in recent
    ] or ["  nothing yet"]


def _metrics_lines(windows: dict[str, dict[str, Any]]) -> list[str]:
    return [
        f"  {days:>2} days: {figures['deploys']} deploys ({figures['per_day']:.2f}/day), "
        f"lead time {status_page.duration(figures['lead_time_s'])}, change failure rate "
        f"{status_page.rate(figures['change_failure_rate'])}, time to restore "
        f"{status_page.duration(figures['time_to_restore_s'])}"
        for days, figures in windows.items()
    ]


def run_history(args: argparse.Namespace) -> int:
    return _report(args, "recent", _history_lines)


def run_metrics(args: argparse.Namespace) -> int:
    return _report(args, "dora", _metrics_lines)


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    for name, run, what in (
        ("history", run_history, "the recent deploys and rollbacks, newest first"),
        ("metrics", run_metrics, "the four DORA metrics over 7 and 30 days"),
    ):
        command = commands.add_parser(name, help=what)
        command.add_argument("--env", help="one environment (default: every one with a ledger)")
        command.add_argument("--json", action="store_true", help="one JSON object")
        command.set_defaults(run=run)
