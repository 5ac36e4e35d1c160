"""What releases are made from in the tests, the demo and the benchmarks: a repository holding
this project's tutor (its tracked files, as a release commit would), and Debian's docker-registry
serving on loopback."""

from __future__ import annotations

import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from testkit.gitrepo import GitRepo
from testkit.loopback import free_port, process_until_ready

ROOT: Final = Path(__file__).resolve().parents[1]
# What a tutor release is made of: its code, its model, its data (suites included).
TUTOR_TREE: Final = ("tutor/", "data/", "models/", ".dockerignore")


def tracked(paths: tuple[str, ...]) -> list[str]:
    """The files git tracks under paths in this checkout."""
    listed = subprocess.run(  # noqa: S603 - fixed argv
        ["git", "ls-files", *paths],  # noqa: S607 - git from PATH
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return listed.splitlines()


def tutor_repository(path: Path, author: str = "Test Author") -> GitRepo:
    """A repository at path whose main branch holds this project's tutor."""
    repo = GitRepo.create(path, author)
    for name in tracked(TUTOR_TREE):
        target = repo.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    repo.commit({}, "the tutor")
    return repo


def registry_binary() -> str | None:
    return shutil.which("docker-registry")


@contextmanager
def registry(root: Path) -> Iterator[str]:
    """Debian's docker-registry on a free loopback port, storing under root; its host:port."""
    binary = registry_binary()
    if binary is None:
        raise FileNotFoundError(
            "docker-registry is not installed (apt-get install docker-registry)"
        )
    port = free_port()
    config = root / "config.yml"
    config.write_text(
        "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"
        f"storage:\n  filesystem:\n    rootdirectory: {root / 'data'}\n  delete:\n"
        f"    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n"
    )

    def answers() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1):
                return True
        except OSError:
            return False

    with process_until_ready([binary, "serve", str(config)], answers, quiet=True):
        yield f"127.0.0.1:{port}"
