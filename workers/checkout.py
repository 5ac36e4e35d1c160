"""A git workspace per repository: incremental fetches into one object store, and a fresh,
standalone checkout at an exact SHA wherever a stage needs one.

The store is the worker's alone: no stage ever sees it (stages get a shallow clone of their own,
discarded after them), and every git the worker runs ignores hooks, so nothing a stage wrote
runs in the worker."""

from __future__ import annotations

import base64
import fcntl
import hashlib
import logging
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

from core.errors import CheckoutError
from core.settings import Settings
from workers.scrub import scrub

log = logging.getLogger(__name__)

FETCH_DEPTH = 50
CONTAINS_DEPTH = 500
# SHAs and refs come from webhooks: anything else could reach git's command line as an option.
_SHA = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")
_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*")
# Fallback when the server refuses to serve a commit by SHA: every branch and pull-request head.
_ALL_HEADS = ("+refs/heads/*:refs/remotes/origin/*", "+refs/pull/*/head:refs/remotes/origin/pull/*")


def auth_env(token: str | None) -> dict[str, str]:
    """git configuration, by environment, that sends the token as an HTTP header.

    Neither the remote URL, git's argv nor .git/config ever holds the token this way.
    """
    if not token:
        return {}
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    return {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "http.extraHeader",
        "GIT_CONFIG_VALUE_0": f"Authorization: basic {basic}",
    }


def _slug(url: str) -> str:
    tail = re.sub(r"[^A-Za-z0-9]+", "-", url.rstrip("/").removesuffix(".git"))[-40:].strip("-")
    return f"{tail}-{hashlib.sha256(url.encode()).hexdigest()[:12]}"


class Workspace:
    """root/<repo>/repo.git holds the objects; checkouts are standalone clones made from it."""

    def __init__(self, root: Path, repo_url: str, git_timeout_s: float = 600) -> None:
        if re.search(r"://[^/]*@", repo_url):
            # It would be written to .git/config and shown in errors: pass the token instead.
            raise ValueError("the repository URL must not hold credentials; pass token=")
        self.repo_url = repo_url
        self.base = root / _slug(repo_url)
        self.git_dir = self.base / "repo.git"
        self.git_timeout_s = git_timeout_s

    def _git(self, *args: str, cwd: Path | None = None, token: str | None = None) -> str:
        env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", **auth_env(token)}
        where = ["-C", str(cwd)] if cwd else ["--git-dir", str(self.git_dir)]
        # No hook of any repository runs in the worker, whoever wrote it; and no git outlives
        # its call (a detached gc or maintenance would hold locks the next call clears).
        where += ["-c", "core.hooksPath=/dev/null", "-c", "gc.autoDetach=false"]
        where += ["-c", "maintenance.autoDetach=false"]
        if cwd:
            # Never let git find a repository above ours (the data dir may sit in a checkout).
            env["GIT_CEILING_DIRECTORIES"] = str(cwd.parent)
        try:
            proc = subprocess.run(  # noqa: S603 - fixed argv, validated SHAs and refs
                ["git", *where, *args],  # noqa: S607 - git from PATH, like any developer's
                env=env,
                capture_output=True,
                text=True,
                encoding="utf-8",
                errors="replace",
                timeout=self.git_timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise CheckoutError(f"git {args[0]} took longer than {self.git_timeout_s} s") from None
        if proc.returncode != 0:
            detail = scrub(proc.stderr.strip() or proc.stdout.strip(), [token] if token else [])
            raise CheckoutError(f"git {args[0]} failed (exit {proc.returncode}): {detail}")
        return proc.stdout

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """One process at a time fetches into this repository."""
        self.base.mkdir(parents=True, exist_ok=True)
        with (self.base / ".lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                self._clear_stale_locks()
                if not (self.git_dir / "HEAD").exists():
                    self._git("init", "--bare", "--quiet", str(self.git_dir), cwd=self.base)
                    self._git("config", "remote.origin.url", self.repo_url)
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _clear_stale_locks(self) -> None:
        """Remove git's own lock files a git killed mid-way left (a worker SIGKILLed during a
        fetch leaves shallow.lock, say, and every later fetch would fail on it). Only git run
        under this workspace's lock writes here, and that lock is ours: any found is stale."""
        if not self.git_dir.is_dir():
            return
        for stale in [*self.git_dir.glob("*.lock"), *(self.git_dir / "refs").rglob("*.lock")]:
            log.warning("%s: removing %s, left by a git that was killed", self.repo_url, stale)
            stale.unlink(missing_ok=True)

    def _has_commit(self, sha: str) -> bool:
        try:
            self._git("cat-file", "-e", f"{sha}^{{commit}}")
        except CheckoutError:
            return False
        return True

    def _fetch(self, sha: str, token: str | None) -> None:
        if self._has_commit(sha):
            return
        try:
            self._git(
                "fetch",
                "--quiet",
                "--no-tags",
                f"--depth={FETCH_DEPTH}",
                "origin",
                sha,
                token=token,
            )
        except CheckoutError:
            # Servers that refuse a bare SHA still serve it through a branch or a PR head.
            self._git("fetch", "--quiet", "--no-tags", "origin", *_ALL_HEADS, token=token)
        if not self._has_commit(sha):
            raise CheckoutError(f"commit {sha} is not in {self.repo_url}")

    def fetch(self, sha: str, token: str | None = None) -> None:
        """Make sure the store holds sha (fetched if missing)."""
        if not _SHA.fullmatch(sha):
            raise ValueError(f"not a full commit SHA: {sha!r}")
        with self._locked():
            self._fetch(sha, token)

    def checkout(self, sha: str, dest: Path, token: str | None = None) -> Path:
        """A fresh standalone repository at dest holding exactly sha (shallow, detached HEAD),
        sharing nothing with the store; whatever was at dest is removed first."""
        self.fetch(sha, token)
        shutil.rmtree(dest, ignore_errors=True)
        dest.parent.mkdir(parents=True, exist_ok=True)
        self._git("init", "--quiet", str(dest), cwd=dest.parent)
        self._git(
            "fetch", "--quiet", "--no-tags", "--depth=1", self.git_dir.as_uri(), sha, cwd=dest
        )
        self._git("checkout", "--quiet", "--detach", "FETCH_HEAD", cwd=dest)
        return dest

    def files_at(self, sha: str, wanted: Callable[[str], bool]) -> dict[str, bytes]:
        """The top-level files of sha whose names `wanted` accepts, by name (sha fetched)."""
        listing = self._git("ls-tree", "--name-only", sha)
        names = [name for name in listing.splitlines() if wanted(name)]
        return {name: self._blob(f"{sha}:{name}") for name in names}

    def _blob(self, spec: str) -> bytes:
        proc = subprocess.run(  # noqa: S603 - fixed argv, validated SHA
            ["git", "--git-dir", str(self.git_dir), "cat-file", "blob", spec],  # noqa: S607
            capture_output=True,
            timeout=self.git_timeout_s,
            check=False,
        )
        if proc.returncode != 0:
            raise CheckoutError(f"git cat-file failed: {proc.stderr.decode(errors='replace')}")
        return proc.stdout

    def contains(self, branch: str, sha: str, token: str | None = None) -> bool:
        """Whether sha is in the history of branch as the remote has it now (within the last
        CONTAINS_DEPTH commits; older counts as not: callers trust what it says yes to)."""
        if not _REF.fullmatch(branch) or ".." in branch or not _SHA.fullmatch(sha):
            raise ValueError(f"not a branch and a commit: {branch!r}, {sha!r}")
        with self._locked():
            depth = f"--depth={CONTAINS_DEPTH}"
            try:
                self._git("fetch", "--quiet", "--no-tags", depth, "origin", branch, token=token)
                self._git("merge-base", "--is-ancestor", sha, "FETCH_HEAD")
            except CheckoutError:
                return False
        return True

    def reverted(self, branch: str, sha: str, token: str | None = None) -> str | None:
        """The commit of branch (as the remote has it now, within its last CONTAINS_DEPTH
        commits) that reverts sha, by git revert's message (which GitHub's Revert button
        keeps): "This reverts commit <sha>". None when none does."""
        if not _REF.fullmatch(branch) or ".." in branch or not _SHA.fullmatch(sha):
            raise ValueError(f"not a branch and a commit: {branch!r}, {sha!r}")
        with self._locked():
            depth = f"--depth={CONTAINS_DEPTH}"
            self._git("fetch", "--quiet", "--no-tags", depth, "origin", branch, token=token)
            found = self._git(
                "log",
                "--format=%H",
                "--fixed-strings",
                f"--grep=This reverts commit {sha}",
                "FETCH_HEAD",
            )
        return found.split()[0] if found.strip() else None

    def read_file_at(self, ref: str, path: str, token: str | None = None) -> str:
        """The text of path at ref (a branch, tag or SHA) as the remote has it now.

        FileNotFoundError when ref has no such file; CheckoutError when ref cannot be fetched.
        """
        if not _REF.fullmatch(ref) or ".." in ref:
            raise ValueError(f"not a branch, tag or commit: {ref!r}")
        with self._locked():
            if _SHA.fullmatch(ref):
                self._fetch(ref, token)
                commit = ref
            else:
                self._git("fetch", "--quiet", "--no-tags", "--depth=1", "origin", ref, token=token)
                commit = self._git("rev-parse", "FETCH_HEAD^{commit}").strip()
            try:
                self._git("cat-file", "-e", f"{commit}:{path}")
            except CheckoutError:
                raise FileNotFoundError(f"{path} does not exist at {ref}") from None
            return self._git("cat-file", "blob", f"{commit}:{path}")


def clone_url(settings: Settings, repo: str) -> str:
    """The git URL of `repo` ("owner/name"): DEPLOYBOT_GIT_URL, else the API host's web host."""
    if settings.git_url is not None:
        return settings.git_url.format(repo=repo)
    api = urlparse(settings.github_api_url)
    if api.hostname == "api.github.com":
        return f"https://github.com/{repo}.git"
    # GitHub Enterprise Server serves the API under /api/v3 and git at the host's root.
    return f"{api.scheme}://{api.netloc}/{repo}.git"


def workspace_root(settings: Settings) -> Path:
    """Where every repository's git workspace lives (one directory each)."""
    return settings.data_dir / "workspaces"
