"""Fixtures for the real parts the suite talks to: Redis, Celery, fake GitHub, git and Docker."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest
import redis
from celery import Celery
from celery._state import _get_active_apps  # type: ignore[attr-defined]  # the live apps
from celery.contrib.testing.app import setup_default_app
from celery.contrib.testing.worker import start_worker as celery_start_worker
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from core.celery_app import make_celery
from core.settings import OFFLINE_BASE, Settings
from testkit.fakegithub.server import FakeGitHub, serve
from testkit.gitrepo import GitRepo
from testkit.loopback import free_port, private_redis, redis_answers
from testkit.tutor import registry, registry_binary
from workers.metrics import worker_metrics

IN_CI = os.environ.get("CI", "").lower() == "true"

WEBHOOK_SECRET = "test-webhook-secret"


def run_deploybot(
    *args: str, env: dict[str, str] | None = None, timeout_s: float = 60
) -> subprocess.CompletedProcess[str]:
    """`deploybot ARGS` as an operator runs it, in this interpreter; its output as text."""
    return subprocess.run(
        [sys.executable, "-m", "deploybot", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout_s,
        check=False,
    )


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def metric_samples(text: str) -> Samples:
    """Every sample of a scrape by name and labels, the text parsed as Prometheus parses it."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def sample(found: Samples, name: str, **labels: str) -> float | None:
    return found.get((name, frozenset(labels.items())))


def worker_samples() -> Samples:
    """What this process's worker has counted so far (tests run their workers in threads)."""
    return metric_samples(generate_latest(worker_metrics().registry).decode())


def counted(before: Samples, after: Samples, name: str, **labels: str) -> float:
    """How much a counter or a histogram's count grew between two readings."""
    return (sample(after, name, **labels) or 0) - (sample(before, name, **labels) or 0)


# Several test runs may share one Redis (developers, helpers, CI); each takes a database of its own.
TEST_DBS = range(1, 16)


@pytest.fixture(scope="session")
def _redis_server() -> Iterator[str]:
    """Base URL (no database) of a real Redis: $DEPLOYBOT_REDIS_URL, 127.0.0.1:6379, or our own."""
    configured = os.environ.get("DEPLOYBOT_REDIS_URL")
    if configured:
        base = configured.rsplit("/", 1)[0] if configured.count("/") > 2 else configured
        if not redis_answers(base):
            pytest.fail(f"DEPLOYBOT_REDIS_URL={base} is not reachable; start Redis or unset it")
        yield base
        return
    if redis_answers("redis://127.0.0.1:6379"):
        yield "redis://127.0.0.1:6379"
        return
    server = shutil.which("redis-server")
    if server is None:
        pytest.fail(
            "no Redis on 127.0.0.1:6379 and no redis-server on PATH (apt-get install redis-server)"
        )
    with private_redis(server) as url:
        yield url.rsplit("/", 1)[0]


@pytest.fixture(scope="session")
def redis_url(_redis_server: str) -> Iterator[str]:
    """A real Redis database reserved for this test run (released at the end)."""
    admin = redis.Redis.from_url(f"{_redis_server}/0")
    for db in TEST_DBS:
        lease = f"deploybot:test-db-lease:{db}"
        if admin.set(lease, os.getpid(), nx=True, ex=6 * 3600):
            try:
                yield f"{_redis_server}/{db}"
            finally:
                admin.delete(lease)
            return
    pytest.fail("every Redis test database 1-15 is leased by another run; wait or flush the leases")


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture(scope="session")
def _github_server() -> Iterator[FakeGitHub]:
    with serve(FakeGitHub()) as fake:
        yield fake


@pytest.fixture
def github(_github_server: FakeGitHub) -> Iterator[FakeGitHub]:
    """The suite's one fake GitHub, emptied for this test; any schema violation fails the test."""
    _github_server.reset()
    yield _github_server
    violations = _github_server.take_violations()
    if violations:
        pytest.fail("requests GitHub would refuse:\n  " + "\n  ".join(violations))


@pytest.fixture
def app_private_key(github: FakeGitHub) -> str:
    return github.private_key_pem


@pytest.fixture
def settings(redis_url: str, github: FakeGitHub, tmp_path: Path) -> Settings:
    return Settings(
        webhook_secret=WEBHOOK_SECRET,
        redis_url=redis_url,
        github_app_id=github.app_id,
        github_private_key=github.private_key_pem,
        github_api_url=github.url,
        data_dir=tmp_path / "data",
        # This machine cannot pull from Docker Hub: releases build on the base made here.
        base_image=OFFLINE_BASE,
        status_addr=f"127.0.0.1:{free_port()}",
    )


def shut(app: Celery) -> None:
    """Close the Redis client a worker app made (WorkerApp.redis) now, not when the garbage
    collector finds it during a later test (an unclosed-socket ResourceWarning that fails that
    one). The broker's connection pool is kombu's, shared by every app on the same URL: it stays."""
    client = app.__dict__.pop("redis", None)
    if client is not None:
        client.close()


@pytest.fixture(autouse=True)
def _celery_apps_shut() -> Iterator[None]:
    """Every Celery app a test made is shut at its end (after its workers stopped)."""
    before = set(_get_active_apps())
    yield
    for app in set(_get_active_apps()) - before:
        shut(app)


@pytest.fixture
def celery_app(settings: Settings, redis_client: redis.Redis) -> Celery:
    return make_celery(settings, name="deploybot-test")


WorkerFactory = Callable[..., AbstractContextManager[Any]]


@pytest.fixture
def start_worker() -> WorkerFactory:
    """`with start_worker(app): ...` runs a real Celery worker thread on the app's broker."""

    @contextmanager
    def factory(app: Celery, **kwargs: Any) -> Iterator[Any]:
        # No start-up ping: its result, kept pending on the app's result backend, is collected
        # later and would reach for a Redis the test may have stopped. Every test waits for the
        # state its next step reads instead.
        options: dict[str, Any] = {
            "pool": "threads",
            "concurrency": 2,
            "loglevel": "WARNING",
            "perform_ping_check": False,
        }
        options.update(kwargs)
        # The worker thread's current app is this one, not Celery's default.
        with setup_default_app(app), celery_start_worker(app, **options) as worker:
            yield worker

    return factory


@pytest.fixture
def git_repo(tmp_path: Path) -> Callable[[str], GitRepo]:
    """Factory: git_repo("name") makes an empty repository whose default branch is main."""

    def make(name: str = "repo") -> GitRepo:
        return GitRepo.create(tmp_path / name)

    return make


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory a sandboxed stage can read (a stage's /tmp is its own, so tmp_path is not
    visible to it): where a test leaves a signal for a running stage."""
    path = Path(tempfile.mkdtemp(prefix="deploybot-shared-", dir="/var/tmp"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def docker_client() -> Any:
    """A Docker engine client: skips locally without an engine, FAILS under CI=true."""
    import docker

    try:
        client = docker.from_env(timeout=30)
        client.ping()
    except docker.errors.DockerException as exc:
        message = f"no Docker engine reachable ({exc.__class__.__name__}); .ci/run starts dockerd"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return client


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Under CI=true a Docker test must run: its skip is turned into a failure."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if IN_CI and report.skipped and item.get_closest_marker("docker") is not None:
        report.outcome = "failed"
        report.longrepr = f"Docker test skipped in CI: {report.longrepr}"


@pytest.fixture(scope="session")
def registry_address(docker_client: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real OCI registry (Debian's docker-registry) on loopback: skips locally without it,
    FAILS under CI=true."""
    if registry_binary() is None:
        message = "docker-registry is not installed (apt-get install docker-registry)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    with registry(tmp_path_factory.mktemp("registry")) as address:
        yield address
