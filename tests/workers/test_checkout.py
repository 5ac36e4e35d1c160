"""Checkout over real git: exact SHAs, incremental fetches, the token only ever in a header."""

from __future__ import annotations

import base64
import http.server
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from core.errors import CheckoutError
from testkit.gitrepo import GitRepo
from workers.checkout import Workspace

TOKEN = "ghs_w1TestToken0123456789abcdefABCDEF"


def _head(path: Path) -> str:
    return subprocess.run(
        ["git", "-C", str(path), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.fixture
def origin(git_repo: Callable[[str], GitRepo]) -> GitRepo:
    return git_repo("origin")


def test_each_checkout_is_a_standalone_repository_at_exactly_its_sha(
    origin: GitRepo, tmp_path: Path
) -> None:
    first = origin.commit({"app.py": "v = 1\n"}, "one")
    second = origin.commit({"app.py": "v = 2\n", "new.py": ""}, "two")
    workspace = Workspace(tmp_path / "ws", origin.url)
    old = workspace.checkout(first, tmp_path / "old")
    new = workspace.checkout(second, tmp_path / "new")
    assert ((old / "app.py").read_text(), _head(old)) == ("v = 1\n", first)
    assert ((new / "app.py").read_text(), _head(new)) == ("v = 2\n", second)
    assert not (old / "new.py").exists()
    # Nothing links a checkout to the store: a stage may do anything to its own.
    assert (old / ".git").is_dir()
    assert not (old / ".git" / "objects" / "info" / "alternates").exists()
    assert str(workspace.git_dir) not in (old / ".git" / "config").read_text()


def test_a_checkout_made_again_is_clean_again(origin: GitRepo, tmp_path: Path) -> None:
    sha = origin.commit({"app.py": "v = 1\n"})
    workspace = Workspace(tmp_path / "ws", origin.url)
    path = workspace.checkout(sha, tmp_path / "co")
    (path / "app.py").write_text("tampered\n")
    (path / "build").mkdir()
    (path / "build" / "junk.o").write_text("x")
    assert workspace.checkout(sha, path) == path
    assert (path / "app.py").read_text() == "v = 1\n"
    assert not (path / "build").exists()


def test_commits_already_fetched_need_no_remote(origin: GitRepo, tmp_path: Path) -> None:
    first = origin.commit({"a.txt": "1"})
    workspace = Workspace(tmp_path / "ws", origin.url)
    workspace.checkout(first, tmp_path / "a")
    second = origin.commit({"a.txt": "2"})
    assert (workspace.checkout(second, tmp_path / "b") / "a.txt").read_text() == "2"
    origin.path.rename(tmp_path / "gone")
    assert (workspace.checkout(first, tmp_path / "c") / "a.txt").read_text() == "1"


def test_a_commit_on_a_pull_request_branch_is_fetched_by_sha(
    origin: GitRepo, tmp_path: Path
) -> None:
    origin.commit({"a.txt": "main"})
    origin.git("checkout", "--quiet", "-b", "feature")
    feature = origin.commit({"a.txt": "feature"})
    origin.git("checkout", "--quiet", "main")
    path = Workspace(tmp_path / "ws", origin.url).checkout(feature, tmp_path / "co")
    assert (path / "a.txt").read_text() == "feature"


def test_the_top_level_files_of_a_commit_are_read_from_the_store(
    origin: GitRepo, tmp_path: Path
) -> None:
    sha = origin.commit({"pyproject.toml": "[project]\n", "sub/requirements.txt": "x\n", "a": ""})
    workspace = Workspace(tmp_path / "ws", origin.url)
    workspace.fetch(sha)
    found = workspace.files_at(sha, lambda name: name.endswith((".toml", ".txt")))
    assert found == {"pyproject.toml": b"[project]\n"}


def test_an_unknown_sha_is_a_checkout_error(origin: GitRepo, tmp_path: Path) -> None:
    origin.commit({"a.txt": "1"})
    with pytest.raises(CheckoutError, match=f"commit {'b' * 40} is not in"):
        Workspace(tmp_path / "ws", origin.url).checkout("b" * 40, tmp_path / "co")


def test_a_url_with_credentials_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="must not hold credentials"):
        Workspace(tmp_path / "ws", f"https://x-access-token:{TOKEN}@github.com/o/r.git")


@pytest.mark.parametrize("bad", ["--upload-pack=touch /tmp/x", "HEAD", "abc123", "A" * 40])
def test_anything_but_a_full_sha_is_refused_before_git_runs(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValueError, match="not a full commit SHA"):
        Workspace(tmp_path / "ws", "file:///nowhere").checkout(bad, tmp_path / "co")
    assert not (tmp_path / "ws").exists()


def test_a_git_killed_mid_fetch_leaves_no_lock_that_stops_the_next(
    origin: GitRepo, tmp_path: Path
) -> None:
    first = origin.commit({"a.txt": "1\n"})
    workspace = Workspace(tmp_path / "ws", origin.url)
    workspace.fetch(first)
    # What a SIGKILLed `git fetch --depth` leaves behind, and a ref update cut short.
    (workspace.git_dir / "shallow.lock").write_text("")
    (workspace.git_dir / "refs" / "heads").mkdir(parents=True, exist_ok=True)
    (workspace.git_dir / "refs" / "heads" / "main.lock").write_text("")
    second = origin.commit({"a.txt": "2\n"})
    assert workspace.read_file_at("main", "a.txt") == "2\n"
    workspace.fetch(second)
    assert not list(workspace.git_dir.rglob("*.lock"))


def test_read_file_at_reads_the_default_branch_not_the_pr(origin: GitRepo, tmp_path: Path) -> None:
    origin.commit({"data/ci-matrix.yaml": "stages: [main]\n"})
    origin.git("checkout", "--quiet", "-b", "pr")
    pr = origin.commit({"data/ci-matrix.yaml": "stages: [pr rewrote the rules]\n"})
    workspace = Workspace(tmp_path / "ws", origin.url)
    workspace.fetch(pr)
    assert workspace.read_file_at("main", "data/ci-matrix.yaml") == "stages: [main]\n"
    assert "pr rewrote" in workspace.read_file_at(pr, "data/ci-matrix.yaml")
    with pytest.raises(FileNotFoundError, match=r"nope\.yaml does not exist at main"):
        workspace.read_file_at("main", "nope.yaml")
    with pytest.raises(CheckoutError):
        workspace.read_file_at("no-such-branch", "data/ci-matrix.yaml")
    with pytest.raises(ValueError, match="not a branch"):
        workspace.read_file_at("--upload-pack=x", "data/ci-matrix.yaml")


class _Recorder(http.server.BaseHTTPRequestHandler):
    """A git HTTP remote that records what it was sent and knows no repository."""

    seen: list[tuple[str, str | None]]

    def do_GET(self) -> None:
        self.seen.append((self.path, self.headers.get("Authorization")))
        self.send_response(404)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reads what was recorded."""


@pytest.fixture
def http_remote() -> Iterator[tuple[str, list[tuple[str, str | None]]]]:
    seen: list[tuple[str, str | None]] = []
    handler = type("Handler", (_Recorder,), {"seen": seen})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/octo/tutor.git", seen
    server.shutdown()
    server.server_close()


def test_the_token_goes_in_a_header_never_in_the_url_config_or_error(
    http_remote: tuple[str, list[tuple[str, str | None]]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, seen = http_remote
    # Make git print every header it sends, unredacted, into the stderr we report.
    monkeypatch.setenv("GIT_CURL_VERBOSE", "1")
    monkeypatch.setenv("GIT_TRACE_REDACT", "0")
    workspace = Workspace(tmp_path / "ws", url)
    with pytest.raises(CheckoutError) as failed:
        workspace.checkout("c" * 40, tmp_path / "co", token=TOKEN)
    basic = base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
    assert seen
    assert all(header == f"basic {basic}" for _, header in seen)
    assert all(TOKEN not in path for path, _ in seen)
    message = str(failed.value)
    assert "Authorization: ***" in message  # git did print the header; it was scrubbed
    assert TOKEN not in message
    assert basic not in message
    for path in (tmp_path / "ws").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert TOKEN.encode() not in data
            assert basic.encode() not in data


def test_without_a_token_no_authorization_is_sent(
    http_remote: tuple[str, list[tuple[str, str | None]]], tmp_path: Path
) -> None:
    url, seen = http_remote
    with pytest.raises(CheckoutError):
        Workspace(tmp_path / "ws", url).checkout("c" * 40, tmp_path / "co")
    assert seen
    assert {header for _, header in seen} == {None}
