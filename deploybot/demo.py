"""`deploybot demo`: the whole bot on one machine with no services installed.

An in-process Redis (fakeredis), the fake GitHub printing every request the bot makes, the real
receiver under uvicorn, a real Celery worker, and a sample repository served over file://. The demo
signs a `pull_request.opened` delivery the way GitHub does, lets the pipeline run the sample's CI
matrix (one stage passes, one fails with an annotated line, one is skipped by its path filter),
then comments `/help`, and prints what a contributor would see on the pull request.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import json
import secrets
import sys
import tempfile
import time
import urllib.parse
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.settings import Settings
from testkit.fakegithub.operations import BOT_LOGIN
from testkit.fakegithub.server import FakeGitHub, Recorded, serve
from testkit.fakegithub.state import Pull
from testkit.gitrepo import GitRepo
from testkit.loopback import fake_redis
from testkit.serving import serve_in_thread

REPO = "demo/tutor"
INSTALLATION = 1
MAINTAINER = "maintainer"
WAIT_S = 120.0

SAMPLE_MATRIX = """\
stages:
  - name: lint
    command: [python, checks/lint.py]
    triggers: [pr]
    timeout_s: 60
    order: 10
  - name: test
    command: [python, -m, unittest, --quiet]
    triggers: [pr]
    timeout_s: 60
    order: 20
    run_after_failure: true
  - name: eval
    command: [python, -c, "print('eval gate')"]
    triggers: [pr]
    paths: [tutor/]
    timeout_s: 60
    order: 30
"""
SAMPLE_LINT = '''\
"""A line-length linter printing ruff's concise format."""
import pathlib
import sys

problems = 0
for path in sorted(pathlib.Path(".").rglob("*.py")):
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if len(line) > 79:
            print(f"{path}:{number}:80: E501 Line too long ({len(line)} > 79)")
            problems += 1
sys.exit(1 if problems else 0)
'''
SAMPLE_CODE = """\
def greet(name):
    return "Hola, " + name


GREETING = greet("mundo")
"""
SAMPLE_TEST = """\
import unittest

from greet import greet


class GreetTest(unittest.TestCase):
    def test_greets(self):
        self.assertEqual(greet("Ana"), "Hola, Ana")
"""
LONG_LINE = "WELCOME = " + repr("¡Bienvenida al tutor de conjugación! " * 3) + "\n"


def describe(recorded: Recorded) -> str:
    """One line for a request the bot made to GitHub (pure)."""
    body = recorded.body if isinstance(recorded.body, dict) else {}
    detail = ""
    if recorded.operation_id in {"checks/create", "checks/update"}:
        parts = [str(body.get("name", "")), str(body.get("status", ""))]
        if "conclusion" in body:
            parts.append(f"→ {body['conclusion']}")
        title = (body.get("output") or {}).get("title")
        if title:
            parts.append(f"“{title}”")
        notes = len((body.get("output") or {}).get("annotations", []))
        if notes:
            parts.append(f"+{notes} annotation{'s' if notes > 1 else ''}")
        detail = " ".join(p for p in parts if p)
    elif recorded.operation_id in {"issues/create-comment", "issues/update-comment"}:
        first = next(
            (ln for ln in str(body.get("body", "")).splitlines() if ln and "<!--" not in ln), ""
        )
        detail = f"“{first[:70]}”"
    elif recorded.operation_id == "reactions/create-for-issue-comment":
        detail = str(body.get("content", ""))
    return (
        f"  GitHub ← {recorded.method:<5} {recorded.path:<58} {recorded.status} {detail}".rstrip()
    )


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def sample_repository(root: Path) -> tuple[str, str]:
    """The sample repository: (default-branch commit, pull-request head commit)."""
    repo = GitRepo.create(root / REPO, author="Demo Contributor")
    files = {
        "data/ci-matrix.yaml": SAMPLE_MATRIX,
        "checks/lint.py": SAMPLE_LINT,
        "greet.py": SAMPLE_CODE,
        "test_greet.py": SAMPLE_TEST,
        "pyproject.toml": '[project]\nname = "demo-tutor"\nversion = "0.1.0"\n',
    }
    base = repo.commit(files, "Sample project with its CI matrix")
    repo.git("checkout", "--quiet", "-b", "welcome")
    head = repo.commit({"greet.py": SAMPLE_CODE + LONG_LINE}, "Add a welcome line")
    repo.git("checkout", "--quiet", "main")
    return base, head


def _repository_json() -> dict[str, Any]:
    return {
        "id": 4242,
        "full_name": REPO,
        "name": "tutor",
        "default_branch": "main",
        "owner": {"login": "demo"},
    }


def pull_request_opened(head: str) -> dict[str, Any]:
    return {
        "action": "opened",
        "number": 1,
        "pull_request": {
            "number": 1,
            "draft": False,
            "head": {"sha": head, "ref": "welcome"},
            "base": {"ref": "main"},
            "user": {"login": "contributor"},
        },
        "repository": _repository_json(),
        "installation": {"id": INSTALLATION},
        "sender": {"login": "contributor", "type": "User"},
    }


def comment_created(body: str, comment_id: int) -> dict[str, Any]:
    return {
        "action": "created",
        "issue": {"number": 1, "pull_request": {"url": "…"}},
        "comment": {
            "id": comment_id,
            "body": body,
            "user": {"login": MAINTAINER, "type": "User"},
            "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
        "repository": _repository_json(),
        "installation": {"id": INSTALLATION},
        "sender": {"login": MAINTAINER, "type": "User"},
    }


def deliver(receiver: str, secret: str, event: str, payload: dict[str, Any]) -> str:
    """POST one signed delivery to the receiver on loopback; its status and answer."""
    body = json.dumps(payload).encode()
    address = urllib.parse.urlsplit(receiver)
    connection = http.client.HTTPConnection(
        address.hostname or "127.0.0.1", address.port, timeout=10
    )
    try:
        connection.request(
            "POST",
            "/webhook",
            body=body,
            headers={
                "Content-Type": "application/json",
                "X-GitHub-Event": event,
                "X-GitHub-Delivery": str(uuid.uuid4()),
                "X-Hub-Signature-256": sign(secret, body),
                "User-Agent": "GitHub-Hookshot/demo",
            },
        )
        answer = connection.getresponse()
        return f"{answer.status} {answer.read().decode().strip()}"
    finally:
        connection.close()


def wait_for(what: str, ready: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT_S
    while not ready():
        if time.monotonic() > deadline:
            raise TimeoutError(f"the demo timed out waiting for {what}")
        time.sleep(0.1)


def _step(text: str) -> None:
    print(f"\n▶ {text}", flush=True)


def run(_: argparse.Namespace | None = None) -> int:
    from celery.contrib.testing.worker import start_worker

    from bot.app import create_app
    from workers.app import create_worker_app

    with (
        tempfile.TemporaryDirectory(prefix="deploybot-demo-") as tmp,
        fake_redis() as redis_url,
        serve(FakeGitHub()) as github,
    ):
        root = Path(tmp)
        _step("A sample repository with a CI matrix on main, and a pull request adding a line")
        base, head = sample_repository(root / "remotes")
        print(f"  main {base[:10]}, pull request #1 head {head[:10]} (changes greet.py)")
        github.add_repo(REPO, installation_id=INSTALLATION)
        github.add_pull(
            REPO,
            Pull(
                number=1,
                head_sha=head,
                head_ref="welcome",
                files=[{"filename": "greet.py", "status": "modified"}],
            ),
        )
        github.set_permission(REPO, MAINTAINER, "write")
        github.on_request = lambda recorded: print(describe(recorded), flush=True)
        secret = secrets.token_hex(16)
        settings = Settings(
            webhook_secret=secret,
            redis_url=redis_url,
            github_app_id=github.app_id,
            github_private_key=github.private_key_pem,
            github_api_url=github.url,
            data_dir=root / "data",
            git_url=(root / "remotes").as_uri() + "/{repo}",
            stage_sandbox=_sandboxed(),
        )
        worker_app = create_worker_app(settings)
        with (
            serve_in_thread(create_app(settings), "receiver") as receiver,
            start_worker(
                worker_app,
                pool="threads",
                concurrency=2,
                perform_ping_check=False,
                loglevel="WARNING",
            ),
        ):
            _step(f"GitHub delivers pull_request.opened to {receiver}/webhook (signed)")
            answer = deliver(receiver, secret, "pull_request", pull_request_opened(head))
            print(f"  receiver → {answer}")
            _step("The worker runs the matrix and reports each stage as a check run")
            wait_for("the pipeline", lambda: _settled(github, head, 3))

            _step("A maintainer comments /help on the pull request")
            comment_id = github.add_comment(REPO, 1, "/help", MAINTAINER)
            answer = deliver(
                receiver, secret, "issue_comment", comment_created("/help", comment_id)
            )
            print(f"  receiver → {answer}")
            wait_for("the help reply", lambda: len(_bot_comments(github)) >= 2)

        _step("What the contributor sees on pull request #1")
        for run in sorted(github.check_runs(), key=lambda r: r["name"]):
            print(f"  {run['name']:<20} {run['conclusion']:<10} {run['output']['title']}")
            for note in run["annotations"]:
                print(f"      {note['path']}:{note['start_line']} {note['message']}")
        for comment in _bot_comments(github):
            print(f"\n  comment by {BOT_LOGIN}:")
            print(
                "\n".join(
                    "    " + line for line in comment["body"].splitlines() if "<!--" not in line
                )
            )
        violations = github.take_violations()
        if violations:
            print("\nrequests GitHub would have refused:\n  " + "\n  ".join(violations))
            return 1
    print("\nEvery request above was checked against GitHub's REST schema; none was refused.")
    return 0


def _sandboxed() -> bool:
    """Stages run in the sandbox when this host has one; the demo's own sample code may run
    without it (a real worker refuses instead)."""
    from workers import sandbox

    problem = sandbox.unavailable()
    if problem is not None:
        print(f"  note: no stage sandbox here ({problem}); the sample's stages run without one")
    return problem is None


def _bot_comments(github: FakeGitHub) -> list[dict[str, Any]]:
    return [c for c in github.comments() if c["user"]["login"] == BOT_LOGIN]


def _settled(github: FakeGitHub, sha: str, count: int) -> bool:
    runs = [r for r in github.check_runs() if r["head_sha"] == sha]
    done = len(runs) >= count and all(r["status"] == "completed" for r in runs)
    return done and any(
        "failed" in c["body"] or "passed" in c["body"] for c in _bot_comments(github)
    )


if __name__ == "__main__":
    sys.exit(run())
