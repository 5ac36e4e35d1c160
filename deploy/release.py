"""Build, stage and gate one release: steps 1-3 of the deploy flow, as a library.

build   the model blob from the commit's checkout (its sha256 is its name), the release's served
        tree (deploy/trees.py) and, with a Docker engine, tutor:<sha> with OCI labels for the
        commit, the model digest and the table digest;
stage   the image pushed to the registry, addressed by digest from then on (without Docker the
        release is its tree and blob in the data dir, the process runtime's artifact);
gate    the staged artifact judged against the previous release (deploy/gate.py), served by the
        docker runtime when there is an engine, else by the process runtime;
record  the manifest, written once, in the release index: only a release the gate accepts (a pass,
        or an inconclusive verdict a maintainer overrode) is recorded.

Each step reports its start and end through `progress`. A step that fails raises ReleaseFailed
naming it, with the tail of what went wrong, and leaves nothing in the index. Staging a commit
that has a manifest returns that manifest: the same digests, one record.
"""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Callable, Sequence, Set
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, TypeVar

from core.errors import BlobError, DeploybotError, ImageError, RegistryError
from core.settings import DEFAULT_BASE_IMAGE
from deploy import gate, gate_run, images, retention
from deploy.backends.base import Artifact, Backend
from deploy.backends.docker import DockerBackend
from deploy.backends.process import ProcessBackend
from deploy.blobs import BlobStore, file_digest
from deploy.manifest import Manifest, Override, ReleaseIndex, SuiteResult
from deploy.progress import Progress, Step
from deploy.registry import Registry
from deploy.trees import TreeStore

STEPS: Final = ("build", "stage", "gate", "record")
T = TypeVar("T")


class ReleaseFailed(DeploybotError):
    """A step of the release failed; str() names it and says why."""

    def __init__(self, step: str, detail: str) -> None:
        super().__init__(f"{step} failed: {detail}")
        self.step = step
        self.detail = detail


class Blocked(DeploybotError):
    """The gate did not accept the release (fail, or inconclusive with no override)."""

    def __init__(self, decision: gate.Decision, report: str) -> None:
        super().__init__(f"the gate says {decision.verdict}: {'; '.join(decision.reasons)}")
        self.decision = decision
        self.report = report


@dataclass(frozen=True)
class ReleaseRequest:
    repository: str
    commit: str
    source: Path  # a checkout of exactly `commit`
    triggered_by: str  # tag | deploy | cli
    requested_by: str
    policy: gate.Policy = field(default_factory=gate.Policy)
    override: Override | None = None


@dataclass(frozen=True)
class Staging:
    """Where releases go: the data dir (blobs, trees, index) and, when there is a Docker engine,
    the registry its images are pushed to."""

    data_dir: Path
    registry: Registry | None = None
    docker: Any = None
    # What the tutor image is built on (DEPLOYBOT_BASE_IMAGE).
    base_image: str = DEFAULT_BASE_IMAGE

    @property
    def blobs(self) -> BlobStore:
        return BlobStore(self.data_dir / "blobs")

    @property
    def trees(self) -> TreeStore:
        return TreeStore(self.data_dir / "trees")

    def index(self, repository: str) -> ReleaseIndex:
        return ReleaseIndex(self.data_dir / "releases", repository)

    def backend(self) -> Backend:
        """What serves a release to the gate: the engine when there is one."""
        if self.docker is not None:
            return DockerBackend(self.docker)
        return ProcessBackend(self.data_dir / "run")

    def artifact(self, manifest: Manifest) -> Artifact:
        return Artifact(manifest.commit, manifest.image, self.trees.get(manifest.commit))


def release(staging: Staging, request: ReleaseRequest, progress: Progress) -> Manifest:
    """The commit's manifest: the one recorded before, or a new one after every step passed."""
    index = staging.index(request.repository)
    existing = index.get(request.commit)
    if existing is not None:
        progress(Step("record", "done", 0.0, f"staged before, at {existing.created_at}"))
        return existing
    model = _step(progress, "build", lambda: _build(staging, request))
    image = _step(progress, "stage", lambda: _stage(staging, request))
    previous = index.previous(request.commit)
    decision, text = _step(progress, "gate", lambda: _gate(staging, request, image, previous))
    accepted = decision.verdict == "pass" or (
        decision.verdict == "inconclusive" and request.override is not None
    )
    if not accepted:
        raise Blocked(decision, text)
    manifest = _manifest(request, image, model, decision, previous)
    return _step(progress, "record", lambda: index.add(manifest))


def _step(progress: Progress, name: str, work: Callable[[], T]) -> T:
    progress(Step(name, "started"))
    started = time.monotonic()
    try:
        result = work()
    except ReleaseFailed as failed:
        progress(Step(name, "failed", time.monotonic() - started, failed.detail))
        raise
    progress(Step(name, "done", time.monotonic() - started))
    return result


def _build(staging: Staging, request: ReleaseRequest) -> tuple[str, str]:
    """(model digest, table digest): the model blob stored, the served tree written and, with an
    engine, tutor:<sha> built and labelled."""
    try:
        model = staging.blobs.put(request.source / images.MODEL_PATH)
        staging.trees.put(request.commit, request.source, staging.blobs.verified(model))
        if staging.docker is not None:
            images.build_tutor(
                request.commit, request.source, base=staging.base_image, client=staging.docker
            )
    except (ImageError, BlobError, OSError) as exc:
        raise ReleaseFailed("build", str(exc)) from exc
    return model, file_digest(request.source / images.TABLE_PATH)


def _stage(staging: Staging, request: ReleaseRequest) -> str:
    """The image's reference by digest; "" when there is no engine (the tree is the artifact)."""
    if staging.docker is None:
        return ""
    if staging.registry is None:
        raise ReleaseFailed("stage", "no registry to push the image to (DEPLOYBOT_REGISTRY)")
    local = f"{images.TUTOR_REPOSITORY}:{request.commit}"
    try:
        return staging.registry.push(local, images.TUTOR_REPOSITORY, request.commit)
    except RegistryError as exc:
        raise ReleaseFailed("stage", str(exc)) from exc


def baseline(manifest: Manifest | None) -> gate.Baseline | None:
    if manifest is None:
        return None
    scores = {name: suite.score for name, suite in manifest.suites.items()}
    return gate.Baseline(manifest.commit, manifest.aggregate, scores)


def _gate(
    staging: Staging, request: ReleaseRequest, image: str, previous: Manifest | None
) -> tuple[gate.Decision, str]:
    new = Artifact(request.commit, image, staging.trees.get(request.commit))
    before = staging.artifact(previous) if previous is not None else None
    evidence = gate_run.gather(new, before, request.source, staging.backend(), request.policy)
    decision = gate.decide(evidence, baseline(previous), request.policy)
    return decision, gate.render(decision, request.commit, baseline(previous))


def _manifest(
    request: ReleaseRequest,
    image: str,
    digests: tuple[str, str],
    decision: gate.Decision,
    previous: Manifest | None,
) -> Manifest:
    model, table = digests
    return Manifest(
        repository=request.repository,
        commit=request.commit,
        image=image,
        model_digest=model,
        table_digest=table,
        aggregate=decision.aggregate,
        suites={row.suite: SuiteResult(row.items, row.passed, row.score) for row in decision.rows},
        latency_p50_ms=decision.latency_ms,
        previous_latency_p50_ms=decision.previous_latency_ms,
        verdict=decision.verdict,
        reasons=decision.reasons,
        checks={name: check.ok for name, check in decision.checks.items()},
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        triggered_by=request.triggered_by,
        requested_by=request.requested_by,
        previous_commit=previous.commit if previous else None,
        override=request.override if decision.verdict == "inconclusive" else None,
        committed_at=_committed_at(request.source),
    )


def _committed_at(source: Path) -> str | None:
    """When the checked-out commit was made (its committer date), if `source` is a checkout."""
    done = subprocess.run(  # noqa: S603 - fixed argv
        ["git", "-C", str(source), "log", "-1", "--format=%cI"],  # noqa: S607 - git from PATH
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        return None
    return done.stdout.strip() or None


def prune(
    staging: Staging,
    repository: str,
    held: Sequence[tuple[str | None, str | None]],
    busy: Set[str] = frozenset(),
    keep: int = retention.KEEP,
) -> list[str]:
    """Remove the images and blobs of every release retention does not pin (see
    deploy/retention.py); the pruned commits. Their manifests stay in the index (the history),
    their artifacts are gone; a release pruned before stays pruned."""
    import docker

    releases = staging.index(repository).all()
    doomed, needed = retention.prunable(releases, held, busy, keep)
    doomed = [m for m in doomed if _has_artifacts(staging, m)]
    for manifest in doomed:
        if manifest.model_digest not in needed:
            staging.blobs.remove(manifest.model_digest)
        staging.trees.remove(manifest.commit)
        if manifest.image and staging.registry is not None and staging.docker is not None:
            staging.registry.delete(manifest.image)
            for local in (manifest.image, f"{images.TUTOR_REPOSITORY}:{manifest.commit}"):
                with contextlib.suppress(docker.errors.ImageNotFound):
                    staging.docker.images.remove(local, force=True)
    return [m.commit for m in doomed]


def _has_artifacts(staging: Staging, manifest: Manifest) -> bool:
    """Whether a release still has what a prune removes (its tree goes with its image)."""
    return staging.trees.get(manifest.commit) is not None
