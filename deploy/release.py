"""Build, stage and gate one release: steps 1-3 of the deploy flow, as a library.

build   the model blob from the commit's checkout (its sha256 is its name) and tutor:<sha> with
        OCI labels for the commit, the model digest and the table digest;
stage   the image pushed to the registry, addressed by digest from then on;
gate    the staged image judged against the previous release (deploy/gate.py);
record  the manifest, written once, in the release index: only a release the gate accepts (a pass,
        or an inconclusive verdict a maintainer overrode) is recorded.

Each step reports its start and end through `progress`. A step that fails raises ReleaseFailed
naming it, with the tail of what went wrong, and leaves nothing in the index. Staging a commit
that has a manifest returns that manifest: the same digests, one record.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, TypeVar

from core.errors import DeploybotError
from deploy import gate, gate_run, images, retention
from deploy.backends.docker import DockerBackend
from deploy.blobs import BlobError, BlobStore, file_digest
from deploy.manifest import Manifest, Override, ReleaseIndex, SuiteResult
from deploy.registry import Registry, RegistryError

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
class Step:
    name: str
    state: str  # started | done | failed
    seconds: float = 0.0
    detail: str = ""


Progress = Callable[[Step], None]


@dataclass(frozen=True)
class Request:
    repository: str
    commit: str
    source: Path  # a checkout of exactly `commit`
    triggered_by: str  # tag | deploy | cli
    requested_by: str
    policy: gate.Policy = field(default_factory=gate.Policy)
    override: Override | None = None


@dataclass(frozen=True)
class Staging:
    """Where releases go: the data dir (blobs, index), the registry and the engine."""

    data_dir: Path
    registry: Registry
    docker: Any

    @property
    def blobs(self) -> BlobStore:
        return BlobStore(self.data_dir / "blobs")

    def index(self, repository: str) -> ReleaseIndex:
        return ReleaseIndex(self.data_dir / "releases", repository)


def release(staging: Staging, request: Request, progress: Progress) -> Manifest:
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


def _build(staging: Staging, request: Request) -> tuple[str, str]:
    """(model digest, table digest): the model blob stored, tutor:<sha> built and labelled."""
    try:
        model = staging.blobs.put(request.source / images.MODEL_PATH)
        images.build_tutor(request.commit, request.source, client=staging.docker)
    except (images.ImageError, BlobError, OSError) as exc:
        raise ReleaseFailed("build", str(exc)) from exc
    return model, file_digest(request.source / images.TABLE_PATH)


def _stage(staging: Staging, request: Request) -> str:
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
    staging: Staging, request: Request, image: str, previous: Manifest | None
) -> tuple[gate.Decision, str]:
    backend = DockerBackend(staging.docker)
    new = gate_run.Staged(request.commit, image, request.source)
    before = None
    if previous is not None:
        before = gate_run.Staged(previous.commit, previous.image, request.source)
    evidence = gate_run.gather(new, before, backend, request.policy)
    decision = gate.decide(evidence, baseline(previous), request.policy)
    return decision, gate.render(decision, request.commit, baseline(previous))


def _manifest(
    request: Request,
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
    )


def prune(
    staging: Staging,
    repository: str,
    live: str | None,
    spare: str | None,
    keep: int = retention.KEEP,
) -> list[str]:
    """Remove the images and blobs of every release retention does not pin; the pruned commits.
    Their manifests stay in the index (the history), their artifacts are gone."""
    import docker

    doomed, needed = retention.prunable(staging.index(repository).all(), live, spare, keep)
    for manifest in doomed:
        if manifest.model_digest not in needed:
            staging.blobs.remove(manifest.model_digest)
        if manifest.image:
            staging.registry.delete(manifest.image)
            for local in (manifest.image, f"{images.TUTOR_REPOSITORY}:{manifest.commit}"):
                with contextlib.suppress(docker.errors.ImageNotFound):
                    staging.docker.images.remove(local, force=True)
    return [m.commit for m in doomed]
