"""A real git repository on disk with a fixed identity, fetched over file:// like a remote: what
the tests, the demo and the benchmarks commit into."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


def _env(author: str) -> dict[str, str]:
    email = author.lower().replace(" ", ".") + "@example.invalid"
    return {
        **os.environ,
        "GIT_AUTHOR_NAME": author,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": author,
        "GIT_COMMITTER_EMAIL": email,
        # Nothing of the machine's own git configuration (hooks, signing) applies.
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }


@dataclass(frozen=True)
class GitRepo:
    path: Path
    author: str = "Test Author"

    @classmethod
    def create(cls, path: Path, author: str = "Test Author") -> GitRepo:
        """A new, empty repository at path whose default branch is main."""
        path.mkdir(parents=True, exist_ok=True)
        repo = cls(path, author)
        repo.git("init", "--quiet", "--initial-branch=main")
        return repo

    @property
    def url(self) -> str:
        return self.path.as_uri()

    def git(self, *args: str) -> str:
        done = subprocess.run(  # noqa: S603 - fixed argv
            ["git", *args],  # noqa: S607 - git from PATH
            cwd=self.path,
            check=True,
            capture_output=True,
            text=True,
            env=_env(self.author),
        )
        return done.stdout.strip()

    def commit(self, files: Mapping[str, str], message: str = "change") -> str:
        """Write the files, commit everything; the new commit's SHA."""
        for name, text in files.items():
            target = self.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        self.git("add", "--all")
        self.git("commit", "--quiet", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")
