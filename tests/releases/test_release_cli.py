"""`deploybot release` and `deploybot releases` as an operator runs them."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from core.settings import unconfigured
from testkit.gitrepo import GitRepo
from tests.conftest import run_deploybot

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def release_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_deploybot(*args, env=env, timeout_s=900)  # a cold image build


def test_release_shows_each_step_says_what_blocks_it_and_releases_lists_it(
    docker_client: Any, registry_address: str, tutor_repo: GitRepo, tmp_path: Path
) -> None:
    env = {
        **unconfigured(os.environ),
        "DEPLOYBOT_REGISTRY": registry_address,
        "DEPLOYBOT_DATA_DIR": str(tmp_path / "data"),
        "DEPLOYBOT_BASE_IMAGE": "offline",
    }
    where = ["--repo-dir", str(tutor_repo.path), "--repository", "octo/tutor"]
    blocked = release_cli("release", "HEAD", *where, env=env)
    assert blocked.returncode == 3, blocked.stderr
    assert "✓ build in" in blocked.stdout
    assert "✓ stage in" in blocked.stdout
    assert "**Gate: INCONCLUSIVE**" in blocked.stdout
    assert "--accept-inconclusive REASON" in blocked.stderr

    staged = release_cli("release", "HEAD", *where, "--accept-inconclusive", "first", env=env)
    assert staged.returncode == 0, staged.stderr
    assert "✓ record in" in staged.stdout
    sha = tutor_repo.git("rev-parse", "HEAD")
    assert f"{sha[:10]}" in staged.stdout

    listed = release_cli("releases", *where, "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    [manifest] = json.loads(listed.stdout)
    assert manifest["commit"] == sha
    assert manifest["override"]["reason"] == "first"
    expected = {"repository", "image", "model_digest", "table_digest", "aggregate", "suites"}
    assert expected <= manifest.keys()
    assert {"latency_p50_ms", "created_at", "triggered_by"} <= manifest.keys()
