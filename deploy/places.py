"""An environment's deploy parts on this host, built from the data directory: the ledger, the
runtime, the traffic switch, the staged releases and the lock. The CLI and the workers build them
here, so both act on the same files, ports and lease. `status` is what both report."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import redis

from core.errors import ConfigError
from deploy import health
from deploy.backends.base import Backend
from deploy.config import DeployConfig, Environment, load_config
from deploy.engine import Engine, Place
from deploy.ledger import Ledger, State
from deploy.lock import LockBusy, Locks, holder_now
from deploy.release import Staging
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


def locks(redis_url: str, lease_s: float) -> Locks:
    return Locks(redis.Redis.from_url(redis_url), lease_s)


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
    return {
        "environment": env.name,
        "front": str(env.front),
        "live": asdict(state.live) if state.live else None,
        "spare": dict(zip(("colour", "commit"), state.spare, strict=True)) if state.spare else None,
        "colours": {c: _probe(where, c, state) for c in env.colours},
        "lock": asdict(holder) if holder else None,
        "in_progress": bool(state.unfinished),
        "bad": sorted(state.bad),
        "last": _last_steps(state),
    }


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
