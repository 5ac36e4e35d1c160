"""Fixtures for deploys: two releases of the tutor staged once per session (by the process runtime,
and by Docker into the real registry), and a Deployment: one environment of deploy.yaml on fresh
loopback ports with its own data dir, HAProxy run by `deploybot proxy`, real Redis for its lock,
driven through the `deploybot` command as an operator drives it."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from core.settings import OFFLINE_BASE, unconfigured
from deploy import dora, health
from deploy.backends.base import Artifact, Backend, Served
from deploy.backends.docker import DockerBackend
from deploy.backends.process import ProcessBackend
from deploy.ledger import Ledger
from deploy.manifest import Override
from deploy.proxy import haproxy_binary
from deploy.registry import Registry
from deploy.release import ReleaseRequest, Staging, release
from deploy.switch.haproxy import HAProxy, Paths
from testkit.gitrepo import GitRepo
from testkit.loopback import free_ports
from testkit.tutor import tutor_repository
from tests.conftest import IN_CI
from workers.checkout import Workspace

LEASE_S = 2
FIRST = Override("tester", "the first release: nothing to compare with")


class NothingServes:
    """A runtime that records what it is asked to serve and fails with `error` (whatever a real
    engine might raise), serving nothing."""

    def __init__(self, error: Callable[[str, int], Exception]) -> None:
        self.error = error
        self.started: list[str] = []
        self.lock = threading.Lock()

    def start(self, name: str, artifact: Artifact, port: int, labels: dict[str, str]) -> Served:
        with self.lock:
            self.started.append(name)
        raise self.error(name, port)

    def stop(self, name: str) -> None:
        return None

    def alive(self, name: str) -> bool:
        return False

    def run_module(self, name: str, module: str) -> tuple[int, str]:
        return 1, "not running"

    def logs(self, name: str, lines: int = 30) -> str:
        return "(no log)"


@dataclass(frozen=True)
class Staged:
    """Releases staged in a data dir: `commits` oldest first."""

    data: Path
    repo: GitRepo
    commits: tuple[str, ...]


def _stage(root: Path, staging: Staging) -> Staged:
    repo = tutor_repository(root / "tutor")
    first = repo.git("rev-parse", "HEAD")
    second = repo.commit({"NOTES.md": "a second release: the same tutor\n"}, "second")
    workspace = Workspace(root / "workspaces", repo.url)
    for sha, override in ((first, FIRST), (second, None)):
        source = workspace.checkout(sha, root / "checkouts" / sha)
        wanted = ReleaseRequest("octo/tutor", sha, source, "cli", "tester", override=override)
        release(staging, wanted, lambda _: None)
    return Staged(staging.data_dir, repo, (first, second))


@pytest.fixture(scope="session")
def process_releases(tmp_path_factory: pytest.TempPathFactory) -> Staged:
    root = tmp_path_factory.mktemp("process-releases")
    return _stage(root, Staging(root / "data"))


@pytest.fixture(scope="session")
def docker_releases(
    tmp_path_factory: pytest.TempPathFactory, docker_client: Any, registry_address: str
) -> Staged:
    root = tmp_path_factory.mktemp("docker-releases")
    staging = Staging(
        root / "data", Registry(registry_address, docker_client), docker_client, OFFLINE_BASE
    )
    return _stage(root, staging)


@pytest.fixture(scope="session")
def haproxy() -> str:
    try:
        return haproxy_binary()
    except Exception as exc:
        if IN_CI:
            pytest.fail(str(exc))
        pytest.skip(str(exc))


class Deployment:
    """One environment, its HAProxy and its ledger, driven through the `deploybot` command."""

    def __init__(
        self,
        root: Path,
        staged: Staged,
        runtime: str,
        redis_url: str,
        name: str,
        **options: Any,
    ) -> None:
        self.root, self.staged, self.runtime, self.name = root, staged, runtime, name
        self.data = root / "data"
        for part in ("releases", "blobs", "trees"):
            shutil.copytree(staged.data / part, self.data / part, copy_function=os.link)
        self.front, self.blue, self.green = free_ports(3)
        self.config = root / "deploy.yaml"
        self.write_config(**options)
        self.env = {
            **unconfigured(os.environ),
            "DEPLOYBOT_DATA_DIR": str(self.data),
            "DEPLOYBOT_REDIS_URL": redis_url,
            "DEPLOYBOT_DEPLOY_LEASE_S": str(LEASE_S),
        }
        self.proxy: subprocess.Popen[bytes] | None = None

    def write_config(
        self,
        bake_s: float = 1,
        smoke: str = "Yo hablo español.",
        lock: str = "queue",
        health_timeout_s: float = 60,
        more: str = "",
    ) -> None:
        """The environment's deploy.yaml; `more` adds its own lines (indented as keys of it)."""
        self.config.write_text(
            "environments:\n"
            f"  {self.name}:\n"
            f"    front: 127.0.0.1:{self.front}\n"
            f"    colours: {{blue: 127.0.0.1:{self.blue}, green: 127.0.0.1:{self.green}}}\n"
            f"    runtime: {self.runtime}\n"
            f"    health: {{path: /healthz, successes: 3, timeout_s: {health_timeout_s}}}\n"
            f'    smoke: {{sentence: "{smoke}", expect_verdict: correct}}\n'
            f"    bake_s: {bake_s}\n"
            f"    lock: {lock}\n" + more,
            encoding="utf-8",
        )

    @property
    def switch(self) -> HAProxy:
        return HAProxy(Paths(self.data / "haproxy"))

    def backend(self) -> Backend:
        if self.runtime == "docker":
            import docker

            return DockerBackend(docker.from_env())
        return ProcessBackend(self.data / "run")

    def colour_name(self, colour: str) -> str:
        return f"deploybot-{self.name}-{colour}"

    def signal_colour(self, colour: str, sig: int = signal.SIGKILL) -> None:
        """Signal what serves `colour`: SIGKILL as a crash kills it, SIGSTOP to hang it."""
        name = self.colour_name(colour)
        if self.runtime == "docker":
            import docker

            docker.from_env().containers.get(name).kill(signal=sig)
        else:
            record = json.loads((self.data / "run" / f"{name}.json").read_text())
            os.killpg(int(record["pid"]), sig)

    # -- the commands -------------------------------------------------------------------------

    def argv(self, *args: str) -> list[str]:
        where = ["--config", str(self.config)]
        if args[0] not in {"lock", "unlock"}:  # the sticky lock is the environment's alone
            where += ["--repository", "octo/tutor"]
        if args[0] in {"deploy", "rollback"}:
            where += ["--repo-dir", str(self.staged.repo.path)]
        return [sys.executable, "-m", "deploybot", *args, *where]

    def cli(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.argv(*args),
            capture_output=True,
            text=True,
            env=self.env,
            timeout=timeout,
            check=False,
        )

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.argv(*args),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=self.env,
        )

    def deploy(self, sha: str) -> subprocess.CompletedProcess[str]:
        done = self.cli("deploy", sha)
        assert done.returncode == 0, done.stdout + done.stderr
        return done

    def baking(self, first: str, second: str, **config: Any) -> subprocess.Popen[str]:
        """`first` live, then `deploy second` running (with `config`) at its bake's beginning."""
        self.deploy(first)
        self.write_config(**config)
        before = len(self.entries())
        driving = self.popen("deploy", second)
        self.wait_for_entry(lambda e: e["step"] == "bake" and e["phase"] == "begin", after=before)
        return driving

    def status(self) -> dict[str, Any]:
        done = self.cli("status", "--json")
        assert done.returncode == 0, done.stderr
        found: dict[str, Any] = json.loads(done.stdout)[0]
        return found

    # -- HAProxy ------------------------------------------------------------------------------

    def start_proxy(self) -> str:
        """`deploybot proxy` started and past its re-assert; what it has said so far."""
        self.proxy_log = self.root / f"proxy-{time.monotonic_ns()}.log"
        with self.proxy_log.open("w") as log:
            proxy = self.proxy = subprocess.Popen(
                [sys.executable, "-m", "deploybot", "proxy", "--config", str(self.config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            said = self.proxy_log.read_text()
            assert proxy.poll() is None, said
            if "deploybot proxy: HAProxy" in said:
                return said
            time.sleep(0.05)
        raise AssertionError(f"deploybot proxy did not start: {self.proxy_log.read_text()}")

    def haproxy_pid(self) -> int:
        """The HAProxy that `deploybot proxy` runs, as it says itself."""
        return int(self.switch.command("show info").split("Pid: ")[1].split()[0])

    def stop_proxy(self, sig: int = signal.SIGTERM) -> int:
        """Signal `deploybot proxy`; its exit status."""
        assert self.proxy is not None
        self.proxy.send_signal(sig)
        code = self.proxy.wait(timeout=30)
        self.proxy = None
        return code

    # -- what users see -----------------------------------------------------------------------

    def front_serves(self) -> str | None:
        """The commit the front answers with (GET /version through HAProxy), None if it cannot."""
        try:
            return health.version(f"http://127.0.0.1:{self.front}").get("commit")
        except OSError:
            return None

    def serves(self, colour: str) -> str | None:
        port = self.blue if colour == "blue" else self.green
        try:
            return health.version(f"http://127.0.0.1:{port}").get("commit")
        except OSError:
            return None

    def ledger(self) -> Ledger:
        return Ledger(self.data / "ledger", self.name)

    def dora_week(self) -> dora.Metrics:
        """The DORA figures of the last 7 days, from the ledger."""
        return dora.metrics(self.ledger().entries(), datetime.now(UTC), 7)

    def entries(self) -> list[dict[str, Any]]:
        path = self.data / "ledger" / f"{self.name}.jsonl"
        if not path.is_file():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def wait_for_entry(
        self, match: Callable[[dict[str, Any]], bool], after: int = 0, timeout: float = 120
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for entry in self.entries()[after:]:
                if match(entry):
                    return entry
            time.sleep(0.01)
        raise AssertionError(f"no such ledger entry after {timeout} s: {self.entries()[after:]}")

    def close(self) -> None:
        if self.proxy is not None:
            self.proxy.kill()
            self.proxy.wait()
        backend = self.backend()
        for colour in ("blue", "green"):
            backend.stop(self.colour_name(colour))


@pytest.fixture
def deployment(
    tmp_path: Path, redis_url: str, haproxy: str, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Deployment]]:
    """Factory: deployment(staged, runtime, **config) — started proxy included."""
    made: list[Deployment] = []

    def make(staged: Staged, runtime: str, **options: Any) -> Deployment:
        test = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower())[5:25].strip("-")
        name = f"t{os.getpid()}-{len(made)}-{test}"
        root = tmp_path / f"d{len(made)}"
        made.append(Deployment(root, staged, runtime, redis_url, name, **options))
        made[-1].start_proxy()
        return made[-1]

    yield make
    for each in made:
        each.close()
