"""Releases on the real engine and a real registry: built once from a checkout of the commit,
pushed and addressed by digest, judged over HTTP against the previous release, recorded once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker
import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import load_file, save_file

from deploy import health
from deploy.backends.docker import DockerBackend
from deploy.blobs import file_digest
from deploy.manifest import Override
from deploy.net import free_port
from deploy.release import Blocked, ReleaseFailed, Staging, prune, release
from testkit.gitrepo import GitRepo
from tests.releases.conftest import Steps, request

pytestmark = [pytest.mark.docker, pytest.mark.slow]
FIRST = Override("maintainer", "the first release: nothing to compare with")
MODEL = Path("models/tutor.safetensors")


def perturb(path: Path, scale: float = 0.3, seed: int = 7) -> None:
    """Noise on every weight: the model still loads and answers, worse (0.957 -> 0.907)."""
    weights = load_file(str(path))
    with safe_open(str(path), "np") as f:
        metadata = f.metadata()
    rng = np.random.default_rng(seed)
    noisy = {
        name: (w + rng.normal(0, scale * float(np.std(w)), w.shape)).astype(w.dtype)
        for name, w in weights.items()
    }
    save_file(noisy, str(path), metadata=metadata)


def test_a_first_release_is_inconclusive_and_recorded_only_when_overridden_once(
    staging: Staging,
    tutor_repo: GitRepo,
    checkout: Callable[[str], Path],
    docker_client: Any,
) -> None:
    sha = tutor_repo.git("rev-parse", "HEAD")
    steps = Steps()
    with pytest.raises(Blocked) as blocked:
        release(staging, request(tutor_repo, sha, checkout(sha)), steps)
    assert blocked.value.decision.verdict == "inconclusive"
    assert "no previous release to compare with" in blocked.value.report
    assert staging.index("octo/tutor").all() == []  # nothing recorded

    manifest = release(staging, request(tutor_repo, sha, checkout(sha), override=FIRST), steps)
    assert (manifest.verdict, manifest.override) == ("inconclusive", FIRST)
    assert manifest.checks == {
        "table integrity": True,
        "tokenizer round trip": True,
        "end-to-end smoke": True,
        "injection replay": True,
        "held-out families": True,
    }
    assert manifest.aggregate is not None
    assert manifest.aggregate >= 0.95
    assert manifest.model_digest == file_digest(checkout(sha) / MODEL)
    assert staging.registry is not None
    assert manifest.image.startswith(f"{staging.registry.address}/tutor@sha256:")
    # The blocked try stopped after the gate; the overridden one recorded.
    assert steps.names() == ["build", "stage", "gate", "build", "stage", "gate", "record"]

    # Staged again: the same record, nothing built again.
    steps = Steps()
    again = release(staging, request(tutor_repo, sha, checkout(sha)), steps)
    assert again == manifest
    assert steps.names() == ["record"]
    assert len(staging.index("octo/tutor").all()) == 1

    # With no local copy left, the image comes back from the registry by its digest.
    for tag in (f"tutor:{sha}", f"{staging.registry.address}/tutor:{sha}"):
        docker_client.images.remove(tag, force=True)
    backend, port = DockerBackend(docker_client), free_port()
    backend.start("deploybot-test-by-digest", staging.artifact(manifest), port, {"role": "test"})
    try:
        url = f"http://127.0.0.1:{port}"
        assert health.wait_healthy(url, timeout_s=30).ok
        assert health.version(url) == {
            "commit": sha,
            "model_digest": manifest.model_digest,
            "table_digest": manifest.table_digest,
        }
    finally:
        backend.stop("deploybot-test-by-digest")


def test_a_degraded_model_is_blocked_with_a_readable_table_and_an_equal_one_passes(
    staging: Staging,
    tutor_repo: GitRepo,
    checkout: Callable[[str], Path],
    docker_client: Any,
) -> None:
    first = tutor_repo.git("rev-parse", "HEAD")
    release(staging, request(tutor_repo, first, checkout(first), override=FIRST), Steps())

    equal = tutor_repo.commit({"tutor/NOTES.md": "Nothing the model sees changed.\n"})
    passed = release(staging, request(tutor_repo, equal, checkout(equal)), Steps())
    assert (passed.verdict, passed.previous_commit) == ("pass", first)
    assert passed.latency_p50_ms is not None
    assert passed.previous_latency_p50_ms is not None  # measured beside it, in the same run

    tutor_repo.git("checkout", "--quiet", "-b", "degraded")
    perturb(tutor_repo.path / MODEL)
    worse = tutor_repo.commit({}, "perturbed weights")
    with pytest.raises(Blocked) as blocked:
        release(staging, request(tutor_repo, worse, checkout(worse)), Steps())
    decision, report = blocked.value.decision, blocked.value.report
    assert decision.verdict == "fail"
    assert any("under the threshold 0.9500" in reason for reason in decision.reasons)
    assert any("more than 2.00%" in reason for reason in decision.reasons)
    assert f"**Gate: FAIL** for `{worse[:10]}` (previous release: `{equal[:10]}`)" in report
    row = next(r for r in decision.rows if r.suite == "regression")
    assert row.previous == passed.suites["regression"].score
    assert row.delta is not None
    assert row.delta < 0
    assert f"| regression | {row.score:.4f} | {row.previous:.4f} | {row.delta:+.4f} |" in report
    assert [m.commit for m in staging.index("octo/tutor").all()] == [first, equal]

    # With the equal release live and nothing kept before it, the first one's image goes; the
    # model blob both share stays, and the live image still comes back by digest.
    assert prune(staging, "octo/tutor", [(equal, None)], keep=0) == [first]
    assert prune(staging, "octo/tutor", [(equal, None)], keep=0) == []  # pruned once
    [gone, kept] = staging.index("octo/tutor").all()
    with pytest.raises(docker.errors.NotFound):
        docker_client.images.pull(gone.image)
    assert staging.blobs.verified(gone.model_digest)
    docker_client.images.pull(kept.image)


def test_a_corrupted_blob_is_refused_naming_its_digest(
    staging: Staging,
    tutor_repo: GitRepo,
    checkout: Callable[[str], Path],
) -> None:
    first = tutor_repo.git("rev-parse", "HEAD")
    manifest = release(
        staging, request(tutor_repo, first, checkout(first), override=FIRST), Steps()
    )
    blob = staging.blobs.root / "sha256" / manifest.model_digest.removeprefix("sha256:")
    blob.chmod(0o644)
    blob.write_bytes(blob.read_bytes()[:-1] + b"\0")
    later = tutor_repo.commit({"tutor/NOTES.md": "The same model, again.\n"})
    steps = Steps()
    with pytest.raises(ReleaseFailed) as failed:
        release(staging, request(tutor_repo, later, checkout(later)), steps)
    assert failed.value.step == "build"
    assert f"blob {manifest.model_digest} is corrupted" in str(failed.value)
    assert steps.names("failed") == ["build"]  # refused before anything started
    assert [m.commit for m in staging.index("octo/tutor").all()] == [first]
