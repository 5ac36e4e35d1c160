"""`deploybot doctor`: what is set, what is missing, and which real components answer; every
failure says how to fix it. Exit 1 when something the bot cannot run without is missing (the
webhook secret, Redis), 0 otherwise (a missing optional part is reported, not fatal)."""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass
from urllib.parse import urlparse

import redis

from core.errors import ConfigError, DeploybotError
from core.github_app import github_app
from core.settings import Settings
from deploybot import terminal


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
    from workers.ci import sandbox

    if not settings.stage_sandbox:
        return Probe("stage sandbox", False, "OFF: stages run the PR's code with no sandbox")
    problem = sandbox.unavailable()
    if problem is not None:
        return Probe("stage sandbox", False, f"stages will refuse to run: {problem}")
    return Probe("stage sandbox", True, "bwrap: stages get their own namespaces, uid 65534")


def probe_secret(settings: Settings) -> Probe:
    if settings.webhook_secret is None:
        return Probe(
            "webhook secret",
            False,
            "MISSING: the receiver refuses to start; set DEPLOYBOT_WEBHOOK_SECRET to the App's "
            "webhook secret (its settings page, 'Webhook secret')",
        )
    return Probe("webhook secret", True, "set (hidden)")


def probe_app(settings: Settings) -> Probe:
    try:
        app_id, _ = settings.require_app_credentials()
    except ConfigError as exc:
        return Probe("github app", False, f"{exc}")
    return Probe("github app", True, f"App {app_id}, private key set (hidden)")


def probe_github(settings: Settings) -> Probe:
    """GET /app as the App: the key, the id and the API URL all in one."""
    if settings.github_app_id is None or settings.github_private_key is None:
        return Probe("github api", False, "not asked: set the App id and key first")
    try:
        found = asyncio.run(_authenticated(settings))
    except (DeploybotError, OSError) as exc:
        return Probe(
            "github api",
            False,
            f"{settings.github_api_url} refused the App ({exc}); check DEPLOYBOT_GITHUB_APP_ID, "
            "the key and DEPLOYBOT_GITHUB_API_URL",
        )
    return Probe("github api", True, f"{settings.github_api_url}: authenticated as {found}")


async def _authenticated(settings: Settings) -> str:
    async with github_app(settings) as app:
        answer = await app.app_client().getitem("/app")
    return str(answer.get("slug") or answer.get("name") or "the App")


def probe_registry(settings: Settings) -> Probe:
    if settings.registry is None:
        return Probe(
            "registry",
            False,
            "DEPLOYBOT_REGISTRY is not set: releases cannot be staged for the docker runtime; "
            "set it to an OCI registry's host:port (Debian's docker-registry: 127.0.0.1:5000)",
        )
    url = f"http://{settings.registry}/v2/"
    try:
        with urllib.request.urlopen(url, timeout=3):  # nosec B310 - http:// built just above
            pass
    except urllib.error.HTTPError as exc:
        if exc.code != 401:  # a registry asking for credentials still answers
            return Probe("registry", False, f"{url} answered {exc.code}: is it a registry?")
    except OSError as exc:
        return Probe("registry", False, f"{url} does not answer ({exc}); start the registry")
    return Probe("registry", True, f"{settings.registry} answers /v2/")


def probe_docker(_: Settings) -> Probe:
    import docker

    try:
        engine = docker.from_env(timeout=5).version()
    except docker.errors.DockerException as exc:
        return Probe(
            "docker",
            False,
            f"no engine reachable ({exc.__class__.__name__}): the docker runtime and image "
            "builds need one; start dockerd or point DOCKER_HOST at it (the process runtime "
            "works without)",
        )
    return Probe("docker", True, f"engine {engine.get('Version', '?')}")


def probe_base_image(settings: Settings) -> Probe:
    """Which image a release's tutor is built on, and whether it can be here."""
    import docker

    from deploy import images

    try:
        client = docker.from_env(timeout=5)
        client.ping()
    except docker.errors.DockerException:
        return Probe(
            "release base", False, f"{settings.base_image}: no Docker engine to build on (docker)"
        )
    ok, detail = images.base_readiness(settings.base_image, client)
    return Probe("release base", ok, detail)


def probe_binary(name: str, fix: str) -> Callable[[Settings], Probe]:
    def probe(_: Settings) -> Probe:
        path = shutil.which(name)
        return Probe(name, path is not None, path or f"{name} is not on PATH: {fix}")

    return probe


PROBES: tuple[Callable[[Settings], Probe], ...] = (
    probe_secret,
    probe_redis,
    probe_redis_password,
    probe_app,
    probe_github,
    probe_sandbox,
    probe_docker,
    probe_registry,
    probe_base_image,
    probe_binary("haproxy", "deploys switch traffic through it; apt-get install haproxy"),
    probe_binary("git", "workers check commits out with it; apt-get install git"),
)
# Without these the bot does not run at all.
REQUIRED = frozenset({"webhook secret", "redis"})


def run(args: argparse.Namespace) -> int:
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 1
    configured = settings.describe()
    probes = [probe(settings) for probe in PROBES]
    fatal = [p.name for p in probes if not p.ok and p.name in REQUIRED]
    if args.json:
        print(
            json.dumps(
                {
                    "configuration": dict(configured),
                    "checks": [asdict(p) for p in probes],
                    "missing": fatal,
                },
                indent=2,
            )
        )
    else:
        terminal.show(
            terminal.table("configuration", ("variable", "value"), configured),
            terminal.table(
                "reachable",
                ("check", "", "detail (and the fix)"),
                [(p.name, terminal.verdict(p.ok), p.detail) for p in probes],
            ),
        )
    if fatal:
        print(f"deploybot cannot run without: {', '.join(fatal)} (see above)", file=sys.stderr)
    return 1 if fatal else 0
