"""An environment's deploy parts on this host, built from the data directory: the ledger, the
runtime, the traffic switch, the staged releases and the lock. The CLI and the workers build them
here, so both act on the same files, ports and lease. `status` is what both report."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis

from core.errors import ConfigError, DeploybotError, SwitchError
from core.settings import DEFAULT_BASE_IMAGE, Settings
from deploy import control, freeze, health, machine, release
from deploy.backends.base import Backend
from deploy.config import DeployConfig, Environment, load_config
from deploy.control import Verdict
from deploy.engine import Engine, Place
from deploy.ledger import Ledger, State, environments, read
from deploy.lock import LockBusy, Locks, holder_now
from deploy.release import Staging
from deploy.retention import KEEP
from deploy.switch.base import Switch
from deploy.switch.haproxy import HAProxy, Paths


def read_config(path: str) -> DeployConfig:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the deploy configuration {path}: {exc.strerror}") from None
    return load_config(text, path)


def environment(config: DeployConfig, name: str | None) -> Environment:
    try:
        return config.environment(name)
    except KeyError as exc:
        raise ConfigError(str(exc.args[0])) from None


def proxy_paths(data_dir: Path) -> Paths:
    return Paths(data_dir / "haproxy")


def backend(data_dir: Path, env: Environment) -> Backend:
    if env.runtime == "docker":
        import docker

        from deploy.backends.docker import DockerBackend

        return DockerBackend(docker.from_env(timeout=120))
    from deploy.backends.process import ProcessBackend

    return ProcessBackend(data_dir / "run")


def switch(data_dir: Path, env: Environment) -> Switch:
    if env.switch == "embedded":
        from deploy.switch.embedded import EmbeddedSwitch

        return EmbeddedSwitch()
    return HAProxy(proxy_paths(data_dir))


def place(data_dir: Path, env: Environment, repository: str) -> Place:
    return Place(
        env,
        Ledger(data_dir / "ledger", env.name),
        backend(data_dir, env),
        switch(data_dir, env),
        Staging(data_dir),
        repository,
    )


def staging(data_dir: Path, registry: str | None, base_image: str = DEFAULT_BASE_IMAGE) -> Staging:
    """Where releases are staged: with the Docker engine, the registry at `registry` and tutor
    images built on `base_image`, or (registry None: the process runtime) the data dir alone."""
    if registry is None:
        return Staging(data_dir)
    import docker

    from deploy.registry import Registry

    client = docker.from_env(timeout=600)
    return Staging(data_dir, Registry(registry, client), client, base_image)


def release_staging(settings: Settings, docker: bool) -> Staging:
    """Where a release is staged as configured: with the engine, the registry and the base
    image (docker), or the data dir alone (the process runtime)."""
    registry = settings.require_registry() if docker else None
    return staging(settings.data_dir, registry, settings.base_image)


def prune(data_dir: Path, repository: str, where: Staging, keep: int = KEEP) -> list[str]:
    """Prune what no environment pins (deploy/retention.py): every environment with a ledger in
    the data dir holds its live release and its spare, and a run in progress its releases. The
    pruned commits."""
    ledgers = data_dir / "ledger"
    held: list[tuple[str | None, str | None]] = []
    busy: set[str] = set()
    for name in environments(ledgers):
        state = read(Ledger(ledgers, name).entries())
        held.append(
            (state.live.commit if state.live else None, state.spare[1] if state.spare else None)
        )
        busy |= {c for e in state.unfinished for c in (e.commit, e.previous) if c}
    return release.prune(where, repository, held, busy, keep)


def retain(
    data_dir: Path, repository: str, registry: Callable[[], str] | None, keep: int = KEEP
) -> tuple[bool, str]:
    """Retention after a deploy, or asked for, as best effort (a prune that fails never fails
    what came before it): whether it ran, and what it did in words. `registry` gives the
    registry's address when images are pruned too (None: the process runtime's trees only)."""
    try:
        where = staging(data_dir, registry() if registry is not None else None)
        pruned = prune(data_dir, repository, where, keep)
    except (DeploybotError, OSError) as exc:
        return False, f"retention: nothing was pruned: {exc}"
    shown = ", ".join(commit[:12] for commit in pruned) or "nothing to prune"
    return True, f"retention: pruned {len(pruned)} release(s) no environment pins: {shown}"


@contextmanager
def locks(redis_url: str, lease_s: float) -> Iterator[Locks]:
    """The environments' locks on their own Redis client, closed on leaving."""
    client = redis.Redis.from_url(redis_url)
    try:
        yield Locks(client, lease_s)
    finally:
        client.close()


def verdict(lock: Locks, env: Environment, kind: str, who: str, break_glass: bool) -> Verdict:
    """Whether the environment's sticky lock and freeze windows let a run of `kind` by `who`
    through now (deploy/control.py decides)."""
    found = control.control(env, lock.sticky.held(env.name), datetime.now(UTC))
    return control.decide(kind, who, found, break_glass)


def status(where: Place, lock: Locks, who: str, settle: bool = True) -> dict[str, Any]:
    """What is live, the spare, the lock and the last deploy's steps. With `settle` (an
    operator's or a writer's command), a deploy whose holder died is reconciled first; without
    it (a reader's /status) nothing is changed."""
    env = where.env
    state = where.state()
    if settle and state.unfinished and lock.holder(env.name) is None:
        try:
            with lock.acquire(env.name, holder_now(who, "reconcile", ""), "refuse"):
                Engine(where, lambda _: None, who).reconcile()
        except LockBusy:
            pass  # someone else took it meanwhile: theirs to settle
        state = where.state()
    holder = lock.holder(env.name)
    now = datetime.now(UTC)
    held = control.control(env, lock.sticky.held(env.name), now)
    coming = freeze.upcoming(env.freeze, now)
    return {
        "environment": env.name,
        "front": str(env.front),
        "live": asdict(state.live) if state.live else None,
        "spare": dict(zip(("colour", "commit"), state.spare, strict=True)) if state.spare else None,
        "colours": {c: _probe(where, c, state) for c in env.colours},
        "switch": _routes(where, state),
        "lock": asdict(holder) if holder else None,
        "queue": [asdict(waiting) for _, waiting in lock.queue(env.name)],
        "sticky": asdict(held.hold) if held.hold else None,
        "freeze": {
            "now": held.frozen.to_json() if held.frozen else None,
            "next": coming.to_json() if coming else None,
        },
        "in_progress": bool(state.unfinished),
        "bad": sorted(state.bad),
        "last": _last_steps(state),
    }


def _routes(where: Place, state: State) -> dict[str, Any]:
    """Where the switch really sends traffic, and whether the ledger says the same (the switch
    is the truth: a deploy keeps the colour it routes to)."""
    try:
        routes = machine.routed(where.switch.servers(where.env.name))
    except SwitchError as exc:
        return {"routes": None, "disagrees": None, "error": str(exc)}
    said = state.live.colour if state.live else None
    disagrees = None
    if routes != said:
        disagrees = (
            f"the switch routes to {routes or 'no colour'}, the ledger has "
            f"{said or 'nothing'} live: the next deploy keeps what the switch serves"
        )
    return {"routes": routes, "disagrees": disagrees, "error": None}


def _probe(where: Place, colour: str, state: State) -> dict[str, Any]:
    try:
        serving = health.version(where.url(colour)).get("commit")
    except OSError:
        serving = None
    return {"holds": state.colours.get(colour), "serves": serving}


def _last_steps(state: State) -> list[dict[str, Any]]:
    if not state.deploys:
        return []
    return [
        {
            "step": e.step,
            "phase": e.phase,
            "commit": e.commit,
            "kind": e.kind,
            "at": e.at,
            "seconds": e.extra.get("seconds"),
            "outcome": e.outcome,
            "detail": e.detail.splitlines()[0] if e.detail else "",
        }
        for e in state.deploys[-1]
        if e.phase != "begin"
    ]
