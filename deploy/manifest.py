"""Release manifests: one immutable record per staged commit, and the index that lists them.

A manifest says what a release is (repository, commit, image digest, model digest, table digest),
how it was judged (the eval report, per suite and aggregate, the latency pair, the gate's verdict
and any override) and when and why it was made. It is written once, atomically (a temporary file,
fsynced, then linked into place, which fails if the name exists), and never rewritten: staging a
commit again finds its manifest and returns it.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

from core.errors import ManifestError

_SHA: Final = re.compile(r"[0-9a-f]{40}")
# How a release came to be staged.
TRIGGERS: Final = ("tag", "deploy", "cli")


@dataclass(frozen=True)
class Override:
    """A maintainer's explicit acceptance of an inconclusive gate."""

    by: str
    reason: str


@dataclass(frozen=True)
class SuiteResult:
    items: int
    passed: int
    score: float


@dataclass(frozen=True)
class Manifest:
    repository: str
    commit: str
    image: str  # the image by digest, e.g. 127.0.0.1:5000/tutor@sha256:...; "" when none is built
    model_digest: str
    table_digest: str
    aggregate: float | None
    suites: dict[str, SuiteResult]
    latency_p50_ms: float | None
    previous_latency_p50_ms: float | None
    verdict: str  # pass | fail | inconclusive
    reasons: tuple[str, ...]
    checks: dict[str, bool]
    created_at: str
    triggered_by: str  # tag | deploy | cli
    requested_by: str
    previous_commit: str | None = None
    override: Override | None = None
    committed_at: str | None = None  # the commit's own time (what lead time is measured from)

    @property
    def accepted(self) -> bool:
        """Whether the gate lets this release be deployed."""
        return self.verdict == "pass" or (
            self.verdict == "inconclusive" and self.override is not None
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Manifest:
        fields = dict(data)
        fields["suites"] = {k: SuiteResult(**v) for k, v in fields.get("suites", {}).items()}
        fields["reasons"] = tuple(fields.get("reasons", ()))
        if fields.get("override") is not None:
            fields["override"] = Override(**fields["override"])
        return cls(**fields)


class ReleaseIndex:
    """root/<owner>__<name>/<sha>.json, listed in the order the releases were made."""

    def __init__(self, root: Path, repository: str) -> None:
        self.repository = repository
        self.folder = root / repository.replace("/", "__")

    def _path(self, commit: str) -> Path:
        if not _SHA.fullmatch(commit):
            raise ManifestError(f"not a full commit SHA: {commit!r}")
        return self.folder / f"{commit}.json"

    def get(self, commit: str) -> Manifest | None:
        path = self._path(commit)
        if not path.is_file():
            return None
        try:
            return Manifest.from_json(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise ManifestError(f"{path}: cannot be read as a manifest: {exc}") from exc

    def add(self, manifest: Manifest) -> Manifest:
        """Record the manifest; the one already there when its commit was staged before."""
        path = self._path(manifest.commit)
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=self.folder, prefix=".incoming-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(manifest.to_json(), out, indent=2, sort_keys=True)
                out.write("\n")
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temporary, 0o444)
            try:
                os.link(temporary, path)  # fails if it exists: a manifest is never rewritten
            except FileExistsError:
                existing = self.get(manifest.commit)
                if existing is None:
                    raise
                return existing
        finally:
            Path(temporary).unlink(missing_ok=True)
        return manifest

    def all(self) -> list[Manifest]:
        """Every manifest, oldest first."""
        if not self.folder.is_dir():
            return []
        found = [self.get(p.stem) for p in self.folder.glob("*.json")]
        return sorted((m for m in found if m is not None), key=lambda m: (m.created_at, m.commit))

    def previous(self, commit: str) -> Manifest | None:
        """The newest accepted release made before `commit`'s (or, if it has none yet, the newest
        accepted one): what the gate compares it with."""
        releases = self.all()
        mine = next((i for i, m in enumerate(releases) if m.commit == commit), len(releases))
        earlier = [m for m in releases[:mine] if m.accepted and m.commit != commit]
        return earlier[-1] if earlier else None
