"""/ok-to-test approves exactly the commit the maintainer saw, through the real receiver and a
real worker: a push that races the comment is not approved by it, and a replayed command is
stale."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from celery import Celery
from starlette.testclient import TestClient

from bot.app import create_app
from bot.comments import stale as stale_reply
from core.contract import CommandHelp, RunCommand, RunPipeline
from core.settings import Settings
from testkit.fakegithub.server import FakeGitHub
from tests.bot.conftest import encode, example, headers_for
from tests.conftest import WorkerFactory, worker_samples
from tests.workers.harness import (
    INSTALLATION,
    REPO,
    Remote,
    add_pull,
    connected,
    jobs_ended,
    matrix,
    python_stage,
    runs_for,
    settled,
    wait_for,
)
from workers.ci import messages

MAINTAINER = "boss"
FORKER = "outsider"
NUMBER = 4
STAGES = matrix(python_stage("greet", "print('hello')", 0), python_stage("more", "pass", 1))


@dataclass
class Scene:
    github: FakeGitHub
    remote: Remote
    app: Celery
    receiver: TestClient
    redis: redis.Redis

    def deliver(self, event: str, payload: dict[str, Any]) -> str:
        body = encode(payload)
        answer = self.receiver.post("/webhook", content=body, headers=headers_for(event, body))
        assert answer.status_code in {200, 202}, answer.text
        return answer.text.strip()

    def push(self, sha: str, action: str) -> str:
        add_pull(self.github, NUMBER, sha, ["x.py"], head_repo=f"{FORKER}/app", user=FORKER)
        payload = copy.deepcopy(example("pull_request/synchronize.payload.json"))
        payload["action"] = action
        payload["number"] = NUMBER
        payload["pull_request"].update(number=NUMBER, draft=False)
        payload["pull_request"]["head"]["sha"] = sha
        payload["repository"]["full_name"] = REPO
        payload["installation"] = {"id": INSTALLATION}
        return self.deliver("pull_request", payload)

    def comment(self, body: str, created_at: datetime | None = None) -> str:
        return self.deliver("issue_comment", self.commented(body, created_at))

    def commented(self, body: str, created_at: datetime | None = None) -> dict[str, Any]:
        """A new comment by the maintainer, and its issue_comment delivery's payload."""
        comment_id = self.github.add_comment(REPO, NUMBER, body, MAINTAINER)
        payload = copy.deepcopy(example("issue_comment/created.with-installation.payload.json"))
        payload["issue"].update(number=NUMBER, pull_request={"url": "https://x/pulls/4"})
        payload["comment"].update(id=comment_id, body=body)
        payload["comment"]["user"].update(login=MAINTAINER, type="User")
        when = created_at or datetime.now(UTC)
        payload["comment"]["created_at"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
        payload["repository"]["full_name"] = REPO
        payload["installation"] = {"id": INSTALLATION}
        return payload

    def bot_comments(self) -> list[str]:
        return [c["body"] for c in self.github.comments() if c["user"]["login"].endswith("[bot]")]


@pytest.fixture
def scene(
    github: FakeGitHub, settings: Settings, redis_client: redis.Redis, tmp_path: Path
) -> Iterator[Scene]:
    remote, app = connected(github, settings, tmp_path)
    github.set_permission(REPO, MAINTAINER, "write")
    with TestClient(create_app(settings, celery=app)) as receiver:
        yield Scene(github, remote, app, receiver, redis_client)


def test_a_push_that_races_ok_to_test_is_not_approved_by_it(
    scene: Scene, start_worker: WorkerFactory
) -> None:
    s1 = scene.remote.commit({"data/ci-matrix.yaml": STAGES, "x.py": "A = 1\n"})
    before = worker_samples()
    assert scene.push(s1, "opened").startswith("queued")
    with start_worker(scene.app):
        wait_for("the fork's pipeline", lambda: jobs_ended(before, RunPipeline.NAME) == 1)
    assert any(messages.OK_TO_TEST_NOTE in body for body in scene.bot_comments())
    assert runs_for(scene.github, s1) == {}

    # The maintainer reviews S1 and comments; S2 is pushed before any worker reads the comment.
    assert scene.comment("/ok-to-test").startswith("queued")
    s2 = scene.remote.commit({"x.py": "A = 'pushed after the approval'\n"})
    assert scene.push(s2, "synchronize").startswith("queued")
    with start_worker(scene.app):
        wait_for("the command", lambda: jobs_ended(before, RunCommand.NAME) == 1)
        wait_for("the new head's pipeline", lambda: jobs_ended(before, RunPipeline.NAME) == 2)
    assert messages.ok_to_test_moved(s2) in scene.bot_comments()
    assert runs_for(scene.github, s1) == runs_for(scene.github, s2) == {}

    # S2 runs once it is approved itself.
    assert scene.comment("/ok-to-test").startswith("queued")
    with start_worker(scene.app):
        wait_for("the approved pipeline", settled(scene.github, scene.redis, s2, 2))
    assert {r["conclusion"] for r in runs_for(scene.github, s2).values()} == {"success"}
    assert runs_for(scene.github, s1) == {}


def test_ok_to_test_with_a_sha_approves_that_head_only(
    scene: Scene, start_worker: WorkerFactory
) -> None:
    s1 = scene.remote.commit({"data/ci-matrix.yaml": STAGES, "x.py": "A = 1\n"})
    before = worker_samples()
    scene.push(s1, "opened")
    with start_worker(scene.app):
        wait_for("the fork's pipeline", lambda: jobs_ended(before, RunPipeline.NAME) == 1)
        scene.comment("/ok-to-test 1234567")
        wait_for("the refusal", lambda: len(scene.bot_comments()) == 2)
        assert messages.ok_to_test_not_head("1234567", s1) in scene.bot_comments()
        scene.comment(f"/ok-to-test {s1[:12]}")
        wait_for("the approved pipeline", settled(scene.github, scene.redis, s1, 2))


def test_a_command_replayed_later_is_not_run_and_answered_once(
    scene: Scene, start_worker: WorkerFactory
) -> None:
    s1 = scene.remote.commit({"data/ci-matrix.yaml": STAGES, "x.py": "A = 1\n"})
    before = worker_samples()
    scene.push(s1, "opened")
    old = datetime.now(UTC) - timedelta(minutes=10)
    stale = scene.commented("/ok-to-test", created_at=old)
    assert scene.deliver("issue_comment", stale).startswith("queued")
    # The same comment again, under a new delivery id: a duplicate, no second reply.
    assert scene.deliver("issue_comment", stale) == "duplicate event"
    with start_worker(scene.app):
        wait_for("the reply", lambda: jobs_ended(before, CommandHelp.NAME) == 1)
        wait_for("the fork's pipeline", lambda: jobs_ended(before, RunPipeline.NAME) == 1)
    said = [c for c in scene.bot_comments() if "was not run" in c]
    assert said == [stale_reply(old.replace(microsecond=0))]
    assert "Comment the command again" in said[0]
    assert runs_for(scene.github, s1) == {}  # not approved
