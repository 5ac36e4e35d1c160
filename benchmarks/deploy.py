"""Zero failed requests across every flip: an independent, bounded load client (keep-alive and new
connections, GET /version and POST /check) runs against the front while a deploy, a rollback and
a second deploy happen, for each runtime (docker, process), through the `deploybot` command.

Printed per runtime: requests sent (at least 2,000) and failed (must be 0); the flip latency
(command → the first response from the new colour) and the rollback time (command → the first
response from the previous release); each step's duration from the ledger; and the client's
latency while nothing happens beside its latency across the operations, side by side.

Needs a Docker engine (DOCKER_HOST), Debian's docker-registry and HAProxy; Redis for the lock is
an in-process fake on loopback.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from benchmarks.report import Row, table
from core.settings import OFFLINE_BASE, unconfigured
from deploy.manifest import Override
from deploy.registry import Registry
from deploy.release import ReleaseRequest, Staging, release
from testkit.load import Load
from testkit.loopback import fake_redis, free_port
from testkit.tutor import registry, tutor_repository
from workers.checkout import Workspace

MIN_REQUESTS: Final = 2000


@dataclass
class Environment:
    root: Path
    runtime: str
    redis_url: str
    bake_s: float
    front: int = field(default_factory=free_port)
    proxy: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.config = self.root / "deploy.yaml"
        self.config.write_text(
            "environments:\n  bench:\n"
            f"    front: 127.0.0.1:{self.front}\n"
            f"    colours: {{blue: 127.0.0.1:{free_port()}, green: 127.0.0.1:{free_port()}}}\n"
            f"    runtime: {self.runtime}\n"
            "    health: {path: /healthz, successes: 3, timeout_s: 60}\n"
            f"    bake_s: {self.bake_s}\n"
        )
        self.env = {
            **unconfigured(os.environ),
            "DEPLOYBOT_DATA_DIR": str(self.root / "data"),
            "DEPLOYBOT_REDIS_URL": self.redis_url,
        }

    @classmethod
    def beside(
        cls, root: Path, staged: Path, runtime: str, redis_url: str, bake_s: float
    ) -> Environment:
        """An environment whose data dir holds the staged releases (hard links)."""
        (root / "data").mkdir(parents=True)
        for part in ("releases", "blobs", "trees"):
            shutil.copytree(staged / part, root / "data" / part, copy_function=os.link)
        return cls(root, runtime, redis_url, bake_s)

    @contextmanager
    def proxied(self) -> Iterator[None]:
        """`deploybot proxy` serving the front for the block; both colours stopped after it."""
        self.start_proxy()
        try:
            yield
        finally:
            if self.proxy is not None:
                self.proxy.terminate()
                self.proxy.wait()
            _stop_colours(self, self.runtime)

    def start_proxy(self) -> None:
        """`deploybot proxy` started (again, after its HAProxy died) and serving."""
        log_path = self.root / f"proxy-{time.monotonic_ns()}.log"
        with log_path.open("w") as log:
            proxy = self.proxy = subprocess.Popen(  # noqa: S603 - this interpreter's deploybot
                self.command("proxy"), stdout=log, stderr=subprocess.STDOUT, env=self.env
            )
        while "deploybot proxy: HAProxy" not in log_path.read_text():
            if proxy.poll() is not None:
                raise RuntimeError(log_path.read_text())
            time.sleep(0.05)

    def start(self, *args: str, repo: Path) -> subprocess.Popen[str]:
        """The command running in the background."""
        return subprocess.Popen(  # noqa: S603 - this interpreter's deploybot
            self._argv(args, repo),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=self.env,
        )

    def _argv(self, args: tuple[str, ...], repo: Path) -> list[str]:
        return [*self.command(*args), "--repo-dir", str(repo), "--repository", "bench/tutor"]

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "deploybot", *args, "--config", str(self.config)]

    def run(self, *args: str, repo: Path) -> float:
        """The command's start time (monotonic); raises when it fails."""
        started = time.monotonic()
        done = subprocess.run(  # noqa: S603 - this interpreter's deploybot
            self._argv(args, repo),
            capture_output=True,
            text=True,
            env=self.env,
            check=False,
            timeout=900,
        )
        if done.returncode != 0:
            raise RuntimeError(f"deploybot {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return started

    def steps(self) -> list[list[tuple[str, float]]]:
        """Each deploy's (step, seconds), from the ledger."""
        lines = (self.root / "data/ledger/bench.jsonl").read_text().splitlines()
        runs: dict[str, list[tuple[str, float]]] = {}
        for entry in map(json.loads, lines):
            if entry["phase"] == "end" and "seconds" in entry["extra"]:
                steps = runs.setdefault(entry["deploy"], [])
                steps.append((entry["step"], entry["extra"]["seconds"]))
                if "switch_ms" in entry["extra"]:
                    steps.append(("(switch itself)", entry["extra"]["switch_ms"] / 1000))
        return list(runs.values())


def stage_two(tmp: Path, staging: Staging) -> tuple[Path, str, str, Path]:
    """Two releases of the tutor staged (by Docker when `staging` has an engine; their trees
    serve the process runtime either way): (data dir, first, second, repository)."""
    repo = tutor_repository(tmp / "tutor", author="bench")
    second = repo.commit({"NOTES.md": "the second release\n"}, "second")
    first = repo.git("rev-parse", "HEAD~1")
    workspace = Workspace(tmp / "workspaces", repo.url)
    for sha, override in ((first, Override("bench", "first")), (second, None)):
        source = workspace.checkout(sha, tmp / "checkouts" / sha)
        release(
            staging,
            ReleaseRequest("bench/tutor", sha, source, "cli", "bench", override=override),
            print_nothing,
        )
    return staging.data_dir, first, second, repo.path


def _stage(tmp: Path, address: str) -> tuple[Path, str, str, Path]:
    import docker

    client = docker.from_env(timeout=600)
    return stage_two(tmp, Staging(tmp / "staged", Registry(address, client), client, OFFLINE_BASE))


def print_nothing(_: Any) -> None:
    return None


def _runtime(
    runtime: str,
    tmp: Path,
    staged: Path,
    commits: tuple[str, str],
    repo: Path,
    redis_url: str,
    quick: bool,
) -> dict[str, Any]:
    first, second = commits
    env = Environment.beside(tmp / runtime, staged, runtime, redis_url, bake_s=2 if quick else 5)
    with env.proxied():
        env.run("deploy", first, repo=repo)
        load = Load(env.front)
        with load.running():
            time.sleep(2)
            calm_end = time.monotonic()
            deployed = env.run("deploy", second, repo=repo)
            rolled = env.run("rollback", repo=repo)
            again = env.run("deploy", second, repo=repo)
            while len(load.answers) + len(load.failures) < MIN_REQUESTS:
                time.sleep(0.1)
            busy_end = time.monotonic()
        return {
            "runtime": runtime,
            "sent": len(load.answers) + len(load.failures),
            "failed": load.failures,
            "flip_s": load.first(second, deployed),
            "rollback_s": load.first(first, rolled),
            "second_flip_s": load.first(second, again),
            "calm": load.latencies(0, calm_end),
            "busy": load.latencies(calm_end, busy_end),
            "steps": env.steps()[1:],
        }


def _stop_colours(env: Environment, runtime: str) -> None:
    from deploy.backends.docker import DockerBackend
    from deploy.backends.process import ProcessBackend

    if runtime == "docker":
        import docker

        backend: Any = DockerBackend(docker.from_env())
    else:
        backend = ProcessBackend(env.root / "data" / "run")
    for colour in ("blue", "green"):
        backend.stop(f"deploybot-bench-{colour}")


def _show(found: dict[str, Any]) -> int:
    runtime = found["runtime"]
    print(f"-- runtime {runtime} --")
    print(f"requests sent {found['sent']} (at least {MIN_REQUESTS}), failed {len(found['failed'])}")
    for failure in found["failed"][:5]:
        print(f"  failed: {failure}")

    def seconds(value: float | None) -> str:
        return f"{value:.3f} s" if value is not None else "never"

    print(
        f"flip latency (deploy → first answer from the new colour): {seconds(found['flip_s'])}; "
        f"second deploy {seconds(found['second_flip_s'])}"
    )
    rollback = seconds(found["rollback_s"])
    print(f"rollback time (command → first answer from the previous release): {rollback}")
    for label, steps in zip(("deploy", "rollback", "second deploy"), found["steps"], strict=False):
        print(f"  {label:<14}" + "  ".join(f"{name} {took:.2f} s" for name, took in steps))
    print(
        table(
            f"client latency, {runtime}: nothing happening vs across the deploys and rollback",
            [Row("calm", found["calm"]), Row("across the flips", found["busy"])],
            baseline="calm",
        )
    )
    ok = not found["failed"] and found["sent"] >= MIN_REQUESTS
    ok = ok and None not in (found["flip_s"], found["rollback_s"], found["second_flip_s"])
    print(f"{runtime}: {'PASS' if ok else 'FAIL'}: {len(found['failed'])} failed requests")
    return 0 if ok else 1


def main(quick: bool) -> int:
    print("== deploy: zero failed requests across a deploy, a rollback and a second deploy ==")
    with tempfile.TemporaryDirectory(prefix="deploybot-bench-deploy-") as directory:
        tmp = Path(directory)
        (tmp / "registry").mkdir()
        with registry(tmp / "registry") as address, fake_redis() as redis_url:
            staged, first, second, repo = _stage(tmp, address)
            status = 0
            for runtime in ("process", "docker"):
                found = _runtime(runtime, tmp, staged, (first, second), repo, redis_url, quick)
                status |= _show(found)
    return status
