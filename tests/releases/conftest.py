"""Fixtures for releases: a repository holding the tutor, and the staging that builds, pushes and
gates on the real engine and the real registry (tests/conftest.py starts it)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from core.settings import OFFLINE_BASE
from deploy.progress import Step
from deploy.registry import Registry
from deploy.release import ReleaseRequest, Staging
from testkit.gitrepo import GitRepo
from testkit.tutor import tutor_repository
from workers.checkout import Workspace


@pytest.fixture
def tutor_repo(tmp_path: Path) -> GitRepo:
    """A repository whose main branch holds this project's tutor, as a release commit would."""
    return tutor_repository(tmp_path / "tutor")


@pytest.fixture
def staging(docker_client: Any, registry_address: str, tmp_path: Path) -> Staging:
    return Staging(
        tmp_path / "data", Registry(registry_address, docker_client), docker_client, OFFLINE_BASE
    )


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


def request(repo: GitRepo, sha: str, source: Path, **extra: Any) -> ReleaseRequest:
    return ReleaseRequest("octo/tutor", sha, source, "cli", "maintainer", **extra)
