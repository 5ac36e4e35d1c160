"""`deploybot deploy`, `rollback`, `status` and `proxy`: the deploy engine from the command line,
no GitHub needed. Each step is shown as it happens with its duration; the exit status is 0 on
success and otherwise non-zero with the failing step named (1 failed, 3 the gate blocked the
release, 4 the environment is locked and configured to refuse)."""

from __future__ import annotations

import argparse
import getpass
import json
import re
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Final

from rich.table import Table

from core import contract
from core.celery_app import make_celery
from core.errors import DeploybotError
from core.settings import Settings
from deploy import places, proxy, runs
from deploy.config import DEFAULT_PATH, Environment
from deploy.engine import Place, Result
from deploy.lock import Busy, Holder, Lease, LockBusy, Locks, holder_now
from deploy.manifest import Manifest
from deploy.release import Blocked, Staging
from deploy.retention import KEEP
from deploy.watch import Watcher
from deploybot import releases, terminal

EXIT_FAILED: Final = 1
EXIT_BLOCKED: Final = 3
EXIT_LOCKED: Final = 4
_FULL_SHA: Final = re.compile(r"[0-9a-f]{40}")


def who() -> str:
    return f"{getpass.getuser()}@{socket.gethostname()} (cli)"


def _told(holder: Holder) -> None:
    print(f"… the environment is locked: {holder.describe()}", flush=True)


def _locks(settings: Settings) -> AbstractContextManager[Locks]:
    return places.locks(settings.redis_url, settings.deploy_lease_s)


@contextmanager
def _lock(
    settings: Settings, env: Environment, kind: str, commit: str, busy: Busy
) -> Iterator[Lease]:
    with (
        _locks(settings) as locks,
        locks.acquire(env.name, holder_now(who(), kind, commit), busy, _told) as lease,
    ):
        yield lease


def _finish(command: str, result: Result) -> int:
    if result.ok:
        print(f"deploybot {command}: {result.outcome}: {result.detail or result.commit[:12]}")
        return 0
    step = f"{result.step} failed: " if result.step else ""
    print(f"deploybot {command}: {result.outcome}: {step}{result.detail}", file=sys.stderr)
    return EXIT_FAILED


def _repository(args: argparse.Namespace) -> str:
    return str(args.repository or releases.repository_of(Path(args.repo_dir)))


def _commit(sha: str, staging: Staging, repository: str, repo_dir: Path) -> str:
    """A full commit id for `sha`: itself, a unique prefix of a staged release, or what git in
    repo_dir says."""
    if _FULL_SHA.fullmatch(sha):
        return sha
    return runs.find_release(staging.index(repository), sha) or releases.commit_of(repo_dir, sha)


def _setup(args: argparse.Namespace) -> tuple[Settings, Environment, Place]:
    """The settings, the environment --env names in --config, and its deploy parts here."""
    settings = Settings.from_env()
    env = places.environment(places.read_config(args.config), args.env)
    return settings, env, places.place(settings.data_dir, env, _repository(args))


def run_deploy(args: argparse.Namespace) -> int:
    try:
        settings, env, where = _setup(args)
        repo_dir = Path(args.repo_dir)
        commit = _commit(args.sha, where.staging, where.repository, repo_dir)
        docker = env.runtime == "docker"

        def stage() -> Manifest:
            print(f"{commit[:12]} has no staged release: staging it first", flush=True)
            return releases.stage(settings, repo_dir, commit, where.repository, None, docker)

        ask = runs.Ask("deploy", commit, who())
        with _lock(settings, env, "deploy", commit, env.lock) as lease:
            locked = runs.Locked(where, ask, lease, releases.show_step)
            locked.release(stage)
            result = locked.engine()
            registry = settings.require_registry if docker else None
            _said_retained(runs.retain_after(result, ask, where, registry))
            return _finish("deploy", result)
    except Blocked as blocked:
        releases.report_blocked("deploy", blocked)
        return EXIT_BLOCKED
    except LockBusy as busy:
        print(f"deploybot deploy: refused: {busy} (lock: refuse)", file=sys.stderr)
        return EXIT_LOCKED
    except (DeploybotError, ImportError) as exc:
        print(f"deploybot deploy: {exc}", file=sys.stderr)
        return EXIT_FAILED


def _said_retained(kept: tuple[bool, str] | None) -> int:
    if kept is None:
        return 0
    ok, said = kept
    print(f"… {said}", file=sys.stdout if ok else sys.stderr, flush=True)
    return 0 if ok else EXIT_FAILED


def run_prune(args: argparse.Namespace) -> int:
    try:
        settings = Settings.from_env()
        repository = _repository(args)
    except (DeploybotError, ImportError) as exc:
        print(f"deploybot prune: {exc}", file=sys.stderr)
        return EXIT_FAILED
    registry = None if args.no_docker else settings.require_registry
    return _said_retained(places.retain(settings.data_dir, repository, registry, args.keep))


def run_rollback(args: argparse.Namespace) -> int:
    try:
        settings, env, where = _setup(args)
        repo_dir = Path(args.repo_dir)
        to = _commit(args.to, where.staging, where.repository, repo_dir) if args.to else None
        found = runs.target(where, where.state(), to)
        if isinstance(found, Result):  # before the lock: no deploy in progress is stopped
            return _finish("rollback", found)
        with _lock(settings, env, "rollback", found, "preempt") as lease:
            if lease.preempted is not None:
                print(f"… took the lock over from {lease.preempted.describe()}", flush=True)
            ask = runs.Ask("rollback", found, who(), named=to is not None)
            return _finish("rollback", runs.Locked(where, ask, lease, releases.show_step).engine())
    except (DeploybotError, ImportError) as exc:
        print(f"deploybot rollback: {exc}", file=sys.stderr)
        return EXIT_FAILED


def _describe(found: dict[str, Any]) -> list[Table]:
    live, spare = found["live"], found["spare"]
    where = terminal.table(
        f"{found['environment']} (front {found['front']})",
        ("", "commit", "where", "since / detail"),
        [
            (
                ("live", live["commit"][:12], live["colour"], f"{live['since']} by {live['by']}")
                if live
                else ("live", "nothing", "", "")
            ),
            ("spare", spare["commit"][:12], spare["colour"], "warm")
            if spare
            else ("spare", "none", "", ""),
            (
                "lock",
                "",
                "",
                (_holder(found["lock"]) if found["lock"] else "free")
                + (f"; {found['queued']} deploy(s) queued" if found["queued"] else ""),
            ),
            _switch_row(found["switch"]),
            *(
                (
                    colour,
                    (seen["holds"] or "-")[:12],
                    "holds",
                    f"serves {(seen['serves'] or 'nothing')[:12]}",
                )
                for colour, seen in found["colours"].items()
            ),
        ],
    )
    if not found["last"]:
        return [where]
    steps = terminal.table(
        "last steps",
        ("step", "result", "seconds", "detail"),
        [
            (
                step["step"],
                step["outcome"] or step["phase"],
                f"{step['seconds']:.2f}" if step["seconds"] is not None else "",
                step["detail"][:100],
            )
            for step in found["last"]
        ],
    )
    return [where, steps]


def _switch_row(switch: dict[str, Any]) -> tuple[str, str, str, str]:
    said = switch["error"] or switch["disagrees"] or "agrees with the ledger"
    return ("switch", "", switch["routes"] or "", said)


def _holder(found: dict[str, Any]) -> str:
    return Holder(**found).describe()


def run_status(args: argparse.Namespace) -> int:
    try:
        settings = Settings.from_env()
        config = places.read_config(args.config)
        names = (
            [places.environment(config, args.env).name] if args.env else list(config.environments)
        )
        repository = _repository(args)
        with _locks(settings) as lock:
            found = [
                places.status(
                    places.place(settings.data_dir, config.environments[n], repository), lock, who()
                )
                for n in names
            ]
    except (DeploybotError, ImportError) as exc:
        print(f"deploybot status: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if args.json:
        print(json.dumps(found, indent=2))
    else:
        terminal.show(*(table for env in found for table in _describe(env)))
    return 0


def _teller(settings: Settings) -> Callable[[str, str], None]:
    """How the watcher's failovers reach on-call: a task for the workers (they hold GitHub)."""
    app = make_celery(settings)

    def send(env: str, run_id: str) -> None:
        try:
            contract.send(app, contract.FailedOver(env=env, run_id=run_id))
        except Exception as exc:  # the broker away: the ledger, page and /metrics still know
            _said(f"deploybot proxy: {env}: on-call not told of failover {run_id} ({exc})")

    def tell(env: str, run_id: str) -> None:
        # Beside the watcher, which must not wait on a broker that is away.
        threading.Thread(target=send, args=(env, run_id), daemon=True).start()

    return tell


def _said(line: str) -> None:
    print(line, flush=True)  # a supervisor's log shows each line as it happens


def run_proxy(args: argparse.Namespace) -> int:
    try:
        settings = Settings.from_env()
        config = places.read_config(args.config)
        running = proxy.Proxy(
            config,
            places.proxy_paths(settings.data_dir),
            settings.data_dir / "ledger",
            attach=args.attach,
            health=args.health_addr,
        )
        with _locks(settings) as locks:
            watcher = Watcher(config, settings.data_dir, locks, say=_said, tell=_teller(settings))
            return proxy.run(running, say=_said, watcher=watcher)
    except DeploybotError as exc:
        print(f"deploybot proxy: {exc}", file=sys.stderr)
        return EXIT_FAILED


def _common(parser: argparse.ArgumentParser, env: bool = True) -> None:
    if env:
        parser.add_argument("--env", help="the environment (default: deploy.yaml's first)")
    parser.add_argument(
        "--config", default=DEFAULT_PATH, help=f"the deploy configuration (default: {DEFAULT_PATH})"
    )


def _release_source(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--repo-dir", default=".", help="the repository (default: here)")
    parser.add_argument("--repository", help="owner/name (default: from the origin remote)")


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    deploy = commands.add_parser(
        "deploy", help="deploy a commit's release blue/green (staging it first if needed)"
    )
    deploy.add_argument("sha", help="the commit (a staged release's prefix, or any git name)")
    _common(deploy)
    _release_source(deploy)
    deploy.set_defaults(run=run_deploy)
    rollback = commands.add_parser(
        "rollback", help="flip back to the previous release (the warm spare, or a redeploy)"
    )
    rollback.add_argument("--to", metavar="SHA", help="any staged release instead of the previous")
    _common(rollback)
    _release_source(rollback)
    rollback.set_defaults(run=run_rollback)
    shown = commands.add_parser("status", help="the live release, the spare, the lock, last steps")
    shown.add_argument("--json", action="store_true", help="one JSON object per environment")
    _common(shown)
    _release_source(shown)
    shown.set_defaults(run=run_status)
    pruned = commands.add_parser(
        "prune", help="remove the artifacts of releases no environment pins (kept: the last 5)"
    )
    pruned.add_argument(
        "--keep", type=int, default=KEEP, help=f"releases kept before each live one ({KEEP})"
    )
    pruned.add_argument(
        "--no-docker", action="store_true", help="trees and blobs only (no Docker engine here)"
    )
    _release_source(pruned)
    pruned.set_defaults(run=run_prune)
    proxied = commands.add_parser(
        "proxy", help="run HAProxy in the foreground with the configuration deploy.yaml renders"
    )
    _common(proxied, env=False)
    proxied.add_argument(
        "--attach",
        action="store_true",
        help="HAProxy runs on its own (master socket in the data dir): write its configuration, "
        "reload it when that changed, re-assert colours whenever it restarts; never stop it",
    )
    proxied.add_argument(
        "--health-addr",
        metavar="HOST:PORT",
        default=None,
        help="also have HAProxy answer 200 on HOST:PORT (a container health check)",
    )
    proxied.set_defaults(run=run_proxy)
