"""`deploybot doctor`: what is set, what is missing, and which real components answer."""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlparse

import redis

from core.errors import ConfigError
from core.settings import Settings


@dataclass(frozen=True)
class Probe:
    name: str
    ok: bool
    detail: str


def probe_redis(settings: Settings) -> Probe:
    try:
        redis.Redis.from_url(settings.redis_url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        return Probe(
            "redis", False, f"{exc.__class__.__name__}: start Redis or fix DEPLOYBOT_REDIS_URL"
        )
    return Probe("redis", True, "answers PING")


def probe_redis_password(settings: Settings) -> Probe:
    if urlparse(settings.redis_url).password is None:
        return Probe(
            "redis password",
            False,
            "none: a dependency install (it shares the host's network) could reach Redis; set "
            "requirepass and put the password in DEPLOYBOT_REDIS_URL",
        )
    return Probe("redis password", True, "set (hidden)")


def probe_sandbox(settings: Settings) -> Probe:
    from workers import sandbox

    if not settings.stage_sandbox:
        return Probe("stage sandbox", False, "OFF: stages run the PR's code with no sandbox")
    problem = sandbox.unavailable()
    if problem is not None:
        return Probe("stage sandbox", False, f"stages will refuse to run: {problem}")
    return Probe("stage sandbox", True, "bwrap: stages get their own namespaces, uid 65534")


def probe_docker(_: Settings) -> Probe:
    import docker

    try:
        engine = docker.from_env(timeout=5).version()
    except docker.errors.DockerException as exc:
        return Probe("docker", False, f"no engine reachable ({exc.__class__.__name__})")
    return Probe("docker", True, f"engine {engine.get('Version', '?')}")


def probe_binary(name: str) -> Callable[[Settings], Probe]:
    def probe(_: Settings) -> Probe:
        path = shutil.which(name)
        return Probe(name, path is not None, path or f"{name} not on PATH")

    return probe


PROBES: tuple[Callable[[Settings], Probe], ...] = (
    probe_redis,
    probe_redis_password,
    probe_sandbox,
    probe_docker,
    probe_binary("haproxy"),
    probe_binary("git"),
)


def run(_: argparse.Namespace) -> int:
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 1
    print("configuration:")
    for variable, shown in settings.describe():
        print(f"  {variable:<32} {shown}")
    print("reachable:")
    probes = [probe(settings) for probe in PROBES]
    for p in probes:
        print(f"  {p.name:<32} {'ok ' if p.ok else 'NO '} {p.detail}")
    missing = settings.webhook_secret is None
    if missing:
        print(
            "the receiver will refuse to start: DEPLOYBOT_WEBHOOK_SECRET is not set",
            file=sys.stderr,
        )
    return 1 if missing or not probes[0].ok else 0
