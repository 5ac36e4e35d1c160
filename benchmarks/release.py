"""Time to build, stage and gate a release of this repository's tutor, cold and cached.

cold    the first release into an empty data dir and registry: every layer is pushed; accepted
        though inconclusive (nothing to compare with);
cached  the next commit, which changes nothing the image is built from but its label: the build
        reuses the engine's layers, the push sends only the new manifest, and the gate also
        serves the first release beside it, for the latency pair.

Needs a Docker engine (DOCKER_HOST) and Debian's docker-registry, started here on loopback.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from deploy.manifest import Manifest, Override
from deploy.registry import Registry
from deploy.release import Request, Staging, Step, release
from testkit.gitrepo import GitRepo
from testkit.loopback import free_port, process_until_ready
from workers.checkout import Workspace

ROOT = Path(__file__).resolve().parents[1]
TREE = ("tutor/", "data/", "models/", ".dockerignore")


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(  # noqa: S603 - fixed argv
        ["git", *args],  # noqa: S607 - git from PATH
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def _repository(path: Path) -> GitRepo:
    repo = GitRepo.create(path, author="bench")
    for name in _git(ROOT, "ls-files", *TREE).splitlines():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, path / name)
    repo.commit({}, "the tutor")
    return repo


def _registry(root: Path) -> tuple[list[str], str]:
    port = free_port()
    config = root / "registry.yml"
    config.write_text(
        "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"
        f"storage:\n  filesystem:\n    rootdirectory: {root / 'registry'}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )
    binary = shutil.which("docker-registry") or "docker-registry"
    return [binary, "serve", str(config)], f"127.0.0.1:{port}"


def _answers(address: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://{address}/v2/", timeout=1):
            return True
    except OSError:
        return False


def _timed(staging: Staging, request: Request) -> tuple[list[Step], Manifest]:
    steps: list[Step] = []
    manifest = release(staging, request, steps.append)
    return [s for s in steps if s.state == "done"], manifest


def main(quick: bool) -> int:
    import docker

    client = docker.from_env(timeout=600)
    with tempfile.TemporaryDirectory(prefix="deploybot-bench-release-") as directory:
        tmp = Path(directory)
        argv, address = _registry(tmp)
        with process_until_ready(argv, lambda: _answers(address), quiet=True):
            repo = _repository(tmp / "tutor")
            staging = Staging(tmp / "data", Registry(address, client), client)
            workspace = Workspace(tmp / "workspaces", repo.url)
            rows = []
            for label, override in (("cold", Override("bench", "first")), ("cached", None)):
                if label == "cached":
                    repo.commit({"tutor/BENCH.md": "a release note\n"}, "a note")
                sha = repo.git("rev-parse", "HEAD")
                source = workspace.checkout(sha, tmp / "checkouts" / sha)
                request = Request("bench/tutor", sha, source, "cli", "bench", override=override)
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
