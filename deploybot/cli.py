"""`deploybot` command line: one subcommand per operator task (the README's "Operations")."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import subprocess
import sys
from collections.abc import Sequence
from importlib.metadata import version
from typing import TYPE_CHECKING

from core import contract, telemetry
from core.children import die_with_parent
from core.errors import ConfigError
from core.settings import Settings
from deploybot import deploys, doctor, releases, replay, reports, status_page, web

if TYPE_CHECKING:
    from celery import Celery

# How long `deploybot worker --ping` waits for both workers' answers.
PING_S = 5.0


def _settings(args: argparse.Namespace) -> Settings | None:
    """The settings, or None after saying on stderr which variable is wrong."""
    try:
        return Settings.from_env()
    except ConfigError as exc:
        print(f"deploybot {args.command}: {exc}", file=sys.stderr)
        return None


def _share_metrics(args: argparse.Namespace, settings: Settings) -> bool:
    """The web process's /metrics adds up this host's web and worker processes."""
    directory = telemetry.metrics_dir(settings.data_dir)
    try:
        telemetry.share(directory)
    except OSError as exc:
        print(
            f"deploybot {args.command}: cannot write metrics to {directory} "
            f"({exc.strerror or exc}); make it writable by this user (the web and the worker "
            "both write there)",
            file=sys.stderr,
        )
        return False
    return True


def _serve(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if settings is None or not _share_metrics(args, settings):
        return 1
    try:
        listeners = status_page.web_app(settings)
        status_host, status_port = settings.status_bind
    except ConfigError as exc:
        print(f"deploybot serve: {exc}", file=sys.stderr)
        return 1
    # Ctrl-C at a terminal: both listeners stopped, as asked; no traceback.
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(
            web.serve(
                web.Listen(listeners.receiver, args.host, args.port),
                web.Listen(listeners.status, status_host, status_port),
            )
        )
    return 0


def _celery(args: argparse.Namespace) -> int:
    from workers.app import create_worker_app
    from workers.scrub import scrub_logs

    settings = _settings(args)
    if settings is None or (args.command == "worker" and not _share_metrics(args, settings)):
        return 1
    scrub_logs(settings.secret_values())
    app = create_worker_app(settings)
    if args.command == "worker" and args.ping:
        return _ping(app)
    if args.command != "worker":
        app.start(["beat", "--loglevel", "INFO"])
        return 0
    if args.rollbacks_only:
        app.start(_worker_argv([contract.QUEUE_ROLLBACK], 1, "rollbacks@%h"))
        return 0
    # Rollbacks get a worker of their own beside this one: stages, builds and deploys may take
    # every slot here, a rollback never waits for one. This worker takes rollbacks too when it
    # has a slot free (and should the other ever be gone).
    rollbacks = subprocess.Popen(
        [sys.executable, "-m", "deploybot", "worker", "--rollbacks-only"],
        stdin=subprocess.DEVNULL,
        preexec_fn=die_with_parent,
    )
    try:
        app.start(_worker_argv(list(contract.QUEUES), args.concurrency, "celery@%h"))
    finally:
        rollbacks.terminate()
        rollbacks.wait()
    return 0


def _ping(app: Celery) -> int:
    """0 when both of this host's workers (the main one and the rollbacks one) answer a ping
    through the broker: what the compose file's health check of the worker asks."""
    from kombu.exceptions import OperationalError
    from redis import RedisError

    host = socket.gethostname()
    names = {f"celery@{host}", f"rollbacks@{host}"}
    try:
        replies = app.control.ping(destination=sorted(names), timeout=PING_S)
    except (OSError, OperationalError, RedisError) as exc:
        print(f"deploybot worker --ping: the broker does not answer ({exc})", file=sys.stderr)
        return 1
    finally:
        app.close()
    missing = ", ".join(sorted(names - {name for reply in replies or [] for name in reply}))
    if missing:
        print(f"deploybot worker --ping: no answer from {missing}", file=sys.stderr)
        return 1
    print(f"deploybot worker --ping: {', '.join(sorted(names))} answered")
    return 0


def _worker_argv(queues: list[str], concurrency: int, name: str) -> list[str]:
    return [
        "worker",
        "--queues",
        ",".join(queues),
        "--hostname",
        name,
        "--prefetch-multiplier",
        "1",
        "--concurrency",
        str(concurrency),
        "--loglevel",
        "INFO",
    ]


def _demo(args: argparse.Namespace) -> int:
    # The demo runs on the test kit (the fake GitHub), which only a development install has.
    try:
        from deploybot import demo
    except ModuleNotFoundError as exc:
        print(
            f"deploybot demo: {exc.name} is not installed; the demo runs from a checkout: "
            "pip install -e '.[demo]'",
            file=sys.stderr,
        )
        return 1
    return demo.run(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deploybot",
        description="CI, releases and blue/green deploys for GitHub, driven by pull requests.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version('deploybot')}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    doctor_cmd = commands.add_parser(
        "doctor", help="print what is configured, what is missing and what is reachable"
    )
    doctor_cmd.add_argument("--json", action="store_true", help="one JSON object")
    doctor_cmd.set_defaults(run=doctor.run)

    serve = commands.add_parser("serve", help="run the webhook receiver under uvicorn")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to bind (default 8000)")
    serve.set_defaults(run=_serve)

    demo_cmd = commands.add_parser(
        "demo",
        help="the whole bot on this machine, no services needed: a PR's CI, /deploy, /rollback",
    )
    demo_cmd.add_argument(
        "--json", action="store_true", help="the timeline as one JSON object on standard output"
    )
    demo_cmd.set_defaults(run=_demo)

    worker = commands.add_parser("worker", help="run a Celery worker for pipelines and releases")
    worker.add_argument("--concurrency", type=int, default=2, help="parallel tasks (default 2)")
    # The rollback worker `deploybot worker` starts beside itself (not for operators).
    worker.add_argument("--rollbacks-only", action="store_true", help=argparse.SUPPRESS)
    worker.add_argument(
        "--ping",
        action="store_true",
        help=f"exit 0 when this host's workers answer a ping through the broker within "
        f"{PING_S:g} s (a health check), 1 otherwise",
    )
    worker.set_defaults(run=_celery)
    beat = commands.add_parser("beat", help="run the scheduler: nightly/weekly runs, recovery")
    beat.set_defaults(run=_celery)

    releases.add_commands(commands)
    deploys.add_commands(commands)
    reports.add_commands(commands)
    replay.add_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
