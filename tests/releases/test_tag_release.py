"""A pushed v* tag through the real worker: the release stages, then build, stage and gate,
reported as the deploybot/gate check run."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest
import redis

from core import contract
from core.settings import Settings
from testkit.fakegithub.server import FakeGitHub
from testkit.tutor import ROOT, TUTOR_TREE, tracked
from tests.conftest import WorkerFactory
from tests.workers.harness import (
    INSTALLATION,
    REPO,
    connected,
    matrix,
    python_stage,
    runs_for,
    settled,
    wait_for,
)

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def test_a_tag_runs_its_stages_then_stages_and_gates_the_release(
    docker_client: Any,
    registry_address: str,
    github: FakeGitHub,
    settings: Settings,
    redis_client: redis.Redis,
    start_worker: WorkerFactory,
    tmp_path: Path,
) -> None:
    remote, app = connected(github, settings, tmp_path, registry=registry_address)
    for name in tracked(TUTOR_TREE):
        (remote.repo.path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, remote.repo.path / name)
    stages = matrix(python_stage("full-eval", "print('the full eval')", 0, triggers="[release]"))
    sha = remote.commit({"data/ci-matrix.yaml": stages}, "v1.0.0")
    tag = contract.RunRelease(
        installation_id=INSTALLATION,
        repo=REPO,
        tag="v1.0.0",
        sha=sha,
        default_branch="main",
        sender="maintainer",
        delivery_id=str(uuid.uuid4()),
    )
    with start_worker(app):
        contract.send(app, tag)
        wait_for("the release and its gate", settled(github, redis_client, sha, 2), 600)
    runs = runs_for(github, sha)
    assert runs["deploybot/release"]["conclusion"] == "success"
    gate = runs["deploybot/gate"]
    # A first release: nothing to compare with, so it waits for a maintainer's acceptance.
    assert gate["conclusion"] == "failure"
    assert gate["output"]["title"] == "Gate inconclusive: not deployable"
    summary = gate["output"]["summary"]
    assert "| injection |" in summary
    assert "| table integrity | ✅" in summary
    assert "--accept-inconclusive REASON" in summary
