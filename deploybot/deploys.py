"""`deploybot deploy`, `rollback`, `status` and `proxy`: the deploy engine from the command line,
no GitHub needed. Each step is shown as it happens with its duration; the exit status is 0 on
success and otherwise non-zero with the failing step named (1 failed, 3 the gate blocked the
release, 4 the environment is locked: configured to refuse, or held by someone's sticky lock, 5 a
freeze window holds deploys); `--dry-run` exits with the code the deploy would have."""

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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from rich.table import Table

from core import contract
from core.celery_app import make_celery
from core.commands import REASON_HELP, reason
from core.errors import DeploybotError
from core.settings import Settings
from deploy import control, places, plan, proxy, runs
from deploy.config import DEFAULT_PATH, Environment
from deploy.control import Verdict
from deploy.engine import Place, Result
from deploy.lock import Busy, Holder, Lease, LockBusy, Locks, holder_now
from deploy.manifest import Manifest
from deploy.release import Blocked, Staging
from deploy.retention import KEEP
from deploy.sticky import Hold, hold_now
from deploy.watch import Watcher
from deploybot import releases, terminal

EXIT_FAILED: Final = 1
EXIT_BLOCKED: Final = 3
EXIT_LOCKED: Final = 4
EXIT_FROZEN: Final = 5
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

        glass = args.break_glass
        if glass is not None and reason(glass.split()) is None:
            print(f"deploybot deploy: --break-glass needs a reason. {REASON_HELP}", file=sys.stderr)
            return EXIT_FAILED
        with _locks(settings) as locks:
            verdict = places.verdict(locks, env, "deploy", who(), glass is not None)
            if args.dry_run:
                return _dry_run(locks, env, where, commit, verdict, stage)
        refused = _refused(env, verdict)
        if refused is not None:
            return refused
        with _lock(settings, env, "deploy", commit, env.lock) as lease:
            # Looked at again once its turn came: a lock or freeze may have begun meanwhile.
            verdict = places.verdict(lease.locks, env, "deploy", who(), glass is not None)
            refused = _refused(env, verdict)
            if refused is not None:
                return refused
            note: dict[str, object] | None = None
            if verdict.broke_glass is not None and glass is not None:
                frozen = verdict.broke_glass
                print(f"… breaking the glass of the freeze {frozen.window.reason!r}", flush=True)
                note = {"break_glass": control.glass(who(), glass, frozen)}
            ask = runs.Ask("deploy", commit, who(), note=note)
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


def _refused(env: Environment, verdict: Verdict) -> int | None:
    """The exit status of a deploy the sticky lock or a freeze refuses, said (None: it goes)."""
    hold, frozen = verdict.control.hold, verdict.control.frozen
    if verdict.refused == "locked" and hold is not None:
        print(
            f"deploybot deploy: refused: {env.name} is locked by {hold.describe()}; ask them to "
            f"unlock it (`deploybot unlock --env {env.name}` or `/unlock {env.name}`), then "
            "deploy again; a rollback is never blocked by a lock",
            file=sys.stderr,
        )
        return EXIT_LOCKED
    if verdict.refused == "frozen" and frozen is not None:
        print(
            f"deploybot deploy: refused: {env.name} is in a freeze window: "
            f"{frozen.describe(datetime.now(UTC))}; deploy after it ends, or now with "
            "--break-glass REASON (recorded in the ledger); a rollback is never frozen",
            file=sys.stderr,
        )
        return EXIT_FROZEN
    return None


def _dry_run(
    locks: Locks,
    env: Environment,
    where: Place,
    commit: str,
    verdict: Verdict,
    stage: Callable[[], Manifest],
) -> int:
    """What a deploy would do, changing no traffic: the release staged and gated if it has
    none, the lock and queue read (never joined); the exit status the deploy would have."""
    holder = locks.holder(env.name)
    queue = [h for _, h in locks.queue(env.name)]
    manifest = where.staging.index(where.repository).get(commit)
    status, gate = _refused_code(env, verdict, holder), None
    if manifest is None:
        try:
            manifest = stage()
        except Blocked as blocked:
            releases.report_blocked("deploy --dry-run", blocked)
            status, gate = status or EXIT_BLOCKED, f"the gate says {blocked.decision.verdict}"
    print(
        f"deploybot deploy --dry-run: nothing was changed. A deploy of {commit[:12]} to "
        f"{env.name} now would {plan.verdict_line(env, verdict, holder, queue, gate)}."
    )
    if manifest is not None:
        print(f"The release: gate {manifest.verdict}, staged at {manifest.created_at}.")
    print("What it would do:")
    image = manifest.image if manifest is not None else ""
    for n, line in enumerate(plan.plan(env, where.state(), commit, image), 1):
        print(f"  {n}. {line}")
    return status


def _refused_code(env: Environment, verdict: Verdict, holder: Holder | None) -> int:
    if verdict.refused == "frozen":
        return EXIT_FROZEN
    if verdict.refused == "locked" or (holder is not None and env.lock == "refuse"):
        return EXIT_LOCKED
    return 0


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
            ("lock", "", "", _holder(found["lock"]) if found["lock"] else "free"),
            *(
                (f"queued {n}", waiting["commit"][:12], "", _holder(waiting))
                for n, waiting in enumerate(found["queue"], 1)
            ),
            ("held", "", "", Hold(**found["sticky"]).describe() if found["sticky"] else "no"),
            _freeze_row("frozen", found["freeze"]["now"]),
            _freeze_row("next freeze", found["freeze"]["next"]),
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


def _freeze_row(what: str, window: dict[str, str] | None) -> tuple[str, str, str, str]:
    if window is None:
        return (what, "", "", "no" if what == "frozen" else "none within a year")
    return (
        what,
        "",
        window["timezone"],
        f"{window['start']} to {window['end']}: {window['reason']}",
    )


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


def run_lock(args: argparse.Namespace) -> int:
    said = reason(args.reason.split())
    if said is None:
        print(f"deploybot lock: --reason is needed. {REASON_HELP}", file=sys.stderr)
        return EXIT_FAILED
    try:
        settings = Settings.from_env()
        env = places.environment(places.read_config(args.config), args.env)
        with _locks(settings) as locks:
            hold = locks.sticky.hold(env.name, hold_now(who(), said))
    except DeploybotError as exc:
        print(f"deploybot lock: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if hold.who != who():
        print(
            f"deploybot lock: {env.name} is already locked by {hold.describe()}; nothing was "
            f"changed (`deploybot unlock --env {env.name}` lets it go, said to no one)",
            file=sys.stderr,
        )
        return EXIT_LOCKED
    print(
        f"{env.name} is locked by {hold.describe()}: deploys by others are refused until "
        f"`deploybot unlock --env {env.name}`; rollbacks always go through"
    )
    return 0


def run_unlock(args: argparse.Namespace) -> int:
    try:
        settings = Settings.from_env()
        env = places.environment(places.read_config(args.config), args.env)
        with _locks(settings) as locks:
            hold = locks.sticky.release(env.name)
    except DeploybotError as exc:
        print(f"deploybot unlock: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(
        f"{env.name} is unlocked (it was locked by {hold.describe()})"
        if hold
        else f"{env.name} was not locked: nothing was changed"
    )
    return 0


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
    _moving_commands(commands)
    _lock_commands(commands)
    _reading_commands(commands)


def _moving_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`deploy` and `rollback`: what moves traffic."""
    deploy = commands.add_parser(
        "deploy", help="deploy a commit's release blue/green (staging it first if needed)"
    )
    deploy.add_argument("sha", help="the commit (a staged release's prefix, or any git name)")
    deploy.add_argument(
        "--dry-run",
        action="store_true",
        help="stage and gate the release if needed, read the locks and freezes, and say what a "
        "deploy would do; no traffic moves, no lock is taken",
    )
    deploy.add_argument(
        "--break-glass",
        metavar="REASON",
        help="deploy inside a freeze window, recorded in the ledger with who and why",
    )
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


def _lock_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`lock` and `unlock`: an environment held by a maintainer."""
    locking = commands.add_parser(
        "lock", help="hold an environment (sticky): others' deploys are refused until unlocked"
    )
    locking.add_argument("--reason", required=True, help="why (shown in every refusal)")
    _common(locking)
    locking.set_defaults(run=run_lock)
    unlocking = commands.add_parser("unlock", help="let go of an environment's sticky lock")
    _common(unlocking)
    unlocking.set_defaults(run=run_unlock)


def _reading_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`status`, `prune` and `proxy`: what reads, tidies and serves the environments."""
    shown = commands.add_parser(
        "status", help="the live release, the spare, the locks, the queue, freezes, last steps"
    )
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
