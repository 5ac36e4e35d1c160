"""Time to build, stage and gate a release of this repository's tutor, cold and cached.

cold    the first release into an empty data dir and registry: every layer is pushed; accepted
        though inconclusive (nothing to compare with);
cached  the next commit, which changes nothing the image is built from but its label: the build
        reuses the engine's layers, the push sends only the new manifest, and the gate also
        serves the first release beside it, for the latency pair.

Needs a Docker engine (DOCKER_HOST) and Debian's docker-registry, started here on loopback.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from core.settings import OFFLINE_BASE
from deploy.manifest import Manifest, Override
from deploy.progress import Step
from deploy.registry import Registry
from deploy.release import ReleaseRequest, Staging, release
from testkit.tutor import registry, tutor_repository
from workers.checkout import Workspace


def _timed(staging: Staging, request: ReleaseRequest) -> tuple[list[Step], Manifest]:
    steps: list[Step] = []
    manifest = release(staging, request, steps.append)
    return [s for s in steps if s.state == "done"], manifest


def main(quick: bool) -> int:
    import docker

    client = docker.from_env(timeout=600)
    with tempfile.TemporaryDirectory(prefix="deploybot-bench-release-") as directory:
        tmp = Path(directory)
        (tmp / "registry").mkdir()
        with registry(tmp / "registry") as address:
            repo = tutor_repository(tmp / "tutor", author="bench")
            staging = Staging(tmp / "data", Registry(address, client), client, OFFLINE_BASE)
            workspace = Workspace(tmp / "workspaces", repo.url)
            rows = []
            for label, override in (("cold", Override("bench", "first")), ("cached", None)):
                if label == "cached":
                    repo.commit({"tutor/BENCH.md": "a release note\n"}, "a note")
                sha = repo.git("rev-parse", "HEAD")
                source = workspace.checkout(sha, tmp / "checkouts" / sha)
                request = ReleaseRequest(
                    "bench/tutor", sha, source, "cli", "bench", override=override
                )
                started = time.monotonic()
                steps, manifest = _timed(staging, request)
                rows.append((label, steps, time.monotonic() - started))
    print("== release: build, stage and gate one release of the tutor ==")
    heads = ("release", "build s", "stage s", "gate s", "record s", "total s")
    print(f"{heads[0]:<10}" + "".join(f"{h:>10}" for h in heads[1:]))
    for label, steps, total in rows:
        took = {s.name: s.seconds for s in steps}
        cells = "".join(f"{took.get(n, 0.0):>10.1f}" for n in ("build", "stage", "gate", "record"))
        print(f"{label:<10}{cells}{total:>10.1f}")
    cold, cached = rows[0][2], rows[1][2]
    print(f"cached / cold: {cached / cold:.2f}x")
    print(
        f"latency budget of the cached release, side by side: p50 {manifest.latency_p50_ms:.2f} ms"
        f" against {manifest.previous_latency_p50_ms:.2f} ms for the same tutor (budget 1.2x)"
    )
    return 0
