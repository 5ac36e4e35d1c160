"""The production install as an operator starts it, for the install tests and benchmark: the
repository's docker-compose.yml with docker-compose.offline.yml (no Docker Hub here), an env file
of the operator's, their deploy.yaml and the App's key under secrets/, on the CI's Docker engine;
every port a free one on loopback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from testkit.loopback import free_ports
from testkit.tutor import ROOT, tracked

# What the images are built from: the files git tracks (as a fresh clone of main has them).
SOURCES = (
    "Dockerfile",
    "pyproject.toml",
    "setup.py",
    "README.md",
    ".dockerignore",
    "core/",
    "bot/",
    "workers/",
    "deploy/",
    "deploybot/",
    "tutor/",
    "data/",
    "models/",
)
COMPOSE_FILES = ("docker-compose.yml", "docker-compose.offline.yml")
HEALTHY_S = 600.0  # a cold build of every image included
PORTS = ("WEB_PORT", "REDIS_PORT", "REGISTRY_PORT", "PROXY_HEALTH_PORT")


class ComposeFailed(RuntimeError):
    """docker-compose (or the engine) refused, or the stack never became healthy."""


@dataclass
class Stack:
    """One compose project in `root`, named `name`."""

    root: Path
    name: str
    env: dict[str, str]
    ports: dict[str, int] = field(default_factory=dict)

    def compose(self, *args: str, timeout_s: float = 900) -> subprocess.CompletedProcess[str]:
        binary = shutil.which("docker-compose")
        if binary is None:
            raise ComposeFailed("docker-compose is not installed (apt-get install docker-compose)")
        files = [a for name in COMPOSE_FILES for a in ("-f", name)]
        return subprocess.run(  # noqa: S603 - docker-compose with the caller's arguments
            [binary, "--project-name", self.name, *files, *args],
            cwd=self.root,
            env={**os.environ, "COMPOSE_INTERACTIVE_NO_CLI": "1"},
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )

    def must(self, *args: str, timeout_s: float = 900) -> str:
        done = self.compose(*args, timeout_s=timeout_s)
        if done.returncode != 0:
            raise ComposeFailed(f"docker-compose {' '.join(args)}:\n{done.stdout}{done.stderr}")
        return done.stdout

    def containers(self) -> dict[str, str]:
        """service -> container id, of the running ones (one `docker ps`, by compose's labels:
        a docker-compose process per service would take a second each)."""
        listed = docker(
            "ps",
            "--filter",
            f"label=com.docker.compose.project={self.name}",
            "--format",
            '{{.Label "com.docker.compose.service"}} {{.ID}}',
        )
        return dict(line.split() for line in listed.splitlines() if line.strip())

    def health(self) -> dict[str, str]:
        """service -> its health ("healthy", "starting", "unhealthy", or "running" without a
        check), of every running container of the project."""
        running = self.containers()
        if not running:
            return {}
        states = docker("inspect", "--format", "{{json .State}}", *running.values())
        found = {}
        for service, line in zip(running, states.splitlines(), strict=True):
            state = json.loads(line)
            found[service] = state.get("Health", {}).get("Status") or state["Status"]
        return found

    def wait_healthy(self, timeout_s: float = HEALTHY_S) -> float:
        """Seconds until every service is healthy (beat: running)."""
        services = set(self.must("config", "--services").split())
        started = time.monotonic()
        while True:
            found = self.health()
            if set(found) == services and set(found.values()) <= {"healthy", "running"}:
                return time.monotonic() - started
            if time.monotonic() - started > timeout_s:
                logs = self.compose("logs", "--tail", "40").stdout[-8000:]
                raise ComposeFailed(f"not all healthy in {timeout_s:.0f} s: {found}\n{logs}")
            time.sleep(0.5)

    def exec(self, service: str, *argv: str, timeout_s: float = 900) -> str:
        return self.must("exec", "-T", service, *argv, timeout_s=timeout_s)

    def logs(self, service: str) -> str:
        return self.compose("logs", "--no-color", service).stdout

    def down(self) -> None:
        self.compose("down", "--volumes", "--remove-orphans", timeout_s=300)


def docker(*args: str) -> str:
    done = subprocess.run(  # noqa: S603 - the docker CLI with the caller's arguments
        ["docker", *args],  # noqa: S607 - docker from PATH
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise ComposeFailed(f"docker {' '.join(args)}: {done.stderr}")
    return done.stdout


def make_stack(
    root: Path, name: str, settings: dict[str, str], deploy_yaml: str, key: str | None = None
) -> Stack:
    """The install directory: the sources and compose files, .env, deploy.yaml, and secrets/
    with the App's private key when there is one."""
    for path in tracked(SOURCES):
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / path, target)
    for name_ in COMPOSE_FILES:
        shutil.copy2(ROOT / name_, root / name_)
    *picked, status = free_ports(len(PORTS) + 1)
    ports = dict(zip(PORTS, picked, strict=True))
    env = {
        **{k: str(v) for k, v in ports.items()},
        "REDIS_PASSWORD": "install-test-redis-password",
        "DEPLOYBOT_STATUS_ADDR": f"127.0.0.1:{status}",
        "DOCKER_SOCKET": _engine_socket(),
        **settings,
    }
    # As the README says: the deploybot image's user (uid 10001) reads it, nobody else.
    secrets = root / "secrets"
    secrets.mkdir(mode=0o700)
    os.chown(secrets, 10001, 10001)
    if key is not None:
        env["DEPLOYBOT_GITHUB_PRIVATE_KEY_PATH"] = "/run/secrets/app.pem"
        (secrets / "app.pem").write_text(key)
        os.chown(secrets / "app.pem", 10001, 10001)
        (secrets / "app.pem").chmod(0o600)
    (root / ".env").write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    (root / ".env").chmod(0o600)
    (root / "deploy.yaml").write_text(deploy_yaml)
    return Stack(root, name, env, {**ports, "STATUS_PORT": status})


def _engine_socket() -> str:
    """The host path of the Docker engine's socket (what the worker container mounts)."""
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if not host.startswith("unix://"):
        raise ComposeFailed(f"the compose install needs the engine on a unix socket, not {host}")
    return host.removeprefix("unix://")
