"""Fixtures for releases: a real registry (Debian's docker-registry on loopback), a repository
holding the tutor, and the staging that builds, pushes and gates on the real engine."""

from __future__ import annotations

import shutil
import subprocess
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from deploy.registry import Registry
from deploy.release import Request, Staging, Step
from testkit.gitrepo import GitRepo
from testkit.loopback import free_port, process_until_ready
from tests.conftest import IN_CI
from workers.checkout import Workspace

ROOT = Path(__file__).resolve().parents[2]
# What a tutor release is made of: its code, its model, its data (suites included).
TUTOR_TREE = ("tutor/", "data/", "models/", ".dockerignore")


@pytest.fixture(scope="session")
def registry_address(docker_client: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = shutil.which("docker-registry")
    if binary is None:
        message = "docker-registry is not installed (apt-get install docker-registry)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    port = free_port()
    root = tmp_path_factory.mktemp("registry")
    config = root / "config.yml"
    storage = root / "data"
    config.write_text(
        "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"
        f"storage:\n  filesystem:\n    rootdirectory: {storage}\n  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )

    def answers() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1):
                return True
        except OSError:
            return False

    with process_until_ready([binary, "serve", str(config)], answers, quiet=True):
        yield f"127.0.0.1:{port}"


def tracked(paths: tuple[str, ...]) -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", *paths], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return listed.splitlines()


@pytest.fixture
def tutor_repo(git_repo: Callable[[str], GitRepo]) -> GitRepo:
    """A repository whose main branch holds this project's tutor, as a release commit would."""
    repo = git_repo("tutor")
    for name in tracked(TUTOR_TREE):
        target = repo.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    repo.commit({}, "the tutor")
    return repo


@pytest.fixture
def staging(docker_client: Any, registry_address: str, tmp_path: Path) -> Staging:
    return Staging(tmp_path / "data", Registry(registry_address, docker_client), docker_client)


@pytest.fixture
def checkout(tutor_repo: GitRepo, tmp_path: Path) -> Callable[[str], Path]:
    """Factory: a fresh checkout of one commit of the tutor repository."""
    workspace = Workspace(tmp_path / "workspaces", tutor_repo.url)
    return lambda sha: workspace.checkout(sha, tmp_path / "checkouts" / sha)


class Steps:
    """Records the progress a release reports."""

    def __init__(self) -> None:
        self.seen: list[Step] = []

    def __call__(self, step: Step) -> None:
        self.seen.append(step)

    def names(self, state: str = "done") -> list[str]:
        return [s.name for s in self.seen if s.state == state]


def request(repo: GitRepo, sha: str, source: Path, **extra: Any) -> Request:
    return Request("octo/tutor", sha, source, "cli", "maintainer", **extra)
