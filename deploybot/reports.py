"""`deploybot history` and `deploybot metrics`: what the status page shows, for a terminal or a
script (`--json`), from the same data (deploybot/status_page.py's `collect`)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from rich.table import Table

from core.errors import DeploybotError
from core.settings import Settings
from deploybot import status_page, terminal


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


def _report(args: argparse.Namespace, key: str, shown: Callable[[str, Any], Table]) -> int:
    """Each environment's `key` of the status page's data: as JSON, or a table of it."""
    found = _environments(args)
    if found is None:
        return 1
    if args.json:
        print(json.dumps({env["name"]: env[key] for env in found}, indent=2))
        return 0
    terminal.show(*(shown(env["name"], env[key]) for env in found))
    return 0


def _history(name: str, recent: list[dict[str, Any]]) -> Table:
    return terminal.table(
        f"{name}: recent deploys and rollbacks" + ("" if recent else " (none yet)"),
        ("at", "kind", "commit", "outcome", "by"),
        [(r["at"], r["kind"], r["commit"][:12], r["outcome"], r["by"]) for r in recent],
    )


def _metrics(name: str, windows: dict[str, dict[str, Any]]) -> Table:
    return terminal.table(
        f"{name}: DORA metrics",
        (
            "window",
            "deploys",
            "per day",
            "days with one",
            "lead time",
            "change failure rate",
            "time to restore",
        ),
        [
            (
                f"{days} days",
                str(m["deploys"]),
                f"{m['per_day']:.2f}",
                str(m["days_with_a_deploy"]),
                status_page.duration(m["lead_time_s"]),
                status_page.rate(m["change_failure_rate"]),
                status_page.duration(m["time_to_restore_s"]),
            )
            for days, m in windows.items()
        ],
    )


def run_history(args: argparse.Namespace) -> int:
    return _report(args, "recent", _history)


def run_metrics(args: argparse.Namespace) -> int:
    return _report(args, "dora", _metrics)


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    for name, run, what in (
        ("history", run_history, "the recent deploys and rollbacks, newest first"),
        ("metrics", run_metrics, "the four DORA metrics over 7 and 30 days"),
    ):
        command = commands.add_parser(name, help=what)
        command.add_argument("--env", help="one environment (default: every one with a ledger)")
        command.add_argument("--json", action="store_true", help="one JSON object")
        command.set_defaults(run=run)
