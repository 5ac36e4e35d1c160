"""A GitHub-driven deploy's world for the tests: the fake GitHub, the worker's remote and settings,
one environment behind HAProxy, and what a maintainer does (comments, button presses)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import redis

from bot.app import create_app
from core.names import DEPLOY_CHECK, DEPLOY_SUMMARY_MARKER, ROLLBACK_ACTION
from core.settings import Settings
from testkit.fakegithub import webhooks
from testkit.fakegithub.server import FakeGitHub
from testkit.fakegithub.state import Pull
from testkit.gitrepo import GitRepo
from testkit.serving import serve_in_thread
from tests.conftest import WEBHOOK_SECRET
from tests.deploys.conftest import LEASE_S, Deployment, Staged
from tests.workers.harness import wait_for, worker_app

REPO = "octo/tutor"
INSTALLATION = 11
MAINTAINER = "boss"
SECOND_MAINTAINER = "deputy"
READER = "reader"
ONCALL = 90


@dataclass
class GitHubWorld:
    github: FakeGitHub
    redis: redis.Redis
    app: Any
    env: Deployment
    remote: GitRepo
    receiver: str | None = None  # the receiver's URL while it serves

    def publish_config(self, **options: Any) -> None:
        """data/deploy.yaml on the default branch: what the worker reads."""
        self.env.write_config(**options)
        self.remote.commit({"data/deploy.yaml": self.env.config.read_text()}, "deploy config")

    def merged(self, number: int, sha: str, base: str = "main") -> None:
        self.github.add_pull(
            REPO,
            Pull(
                number=number,
                head_sha=sha,
                state="closed",
                merged=True,
                merge_commit_sha=sha,
                merged_by=MAINTAINER,
                merged_at="2026-12-01T10:00:00Z",
                base_ref=base,
            ),
        )

    def command(self, number: int, command: str, sender: str = MAINTAINER) -> int:
        """A comment with the command, delivered to the receiver as GitHub would."""
        comment_id = self.github.add_comment(REPO, number, command, sender)
        payload = webhooks.comment_created(self.github, REPO, comment_id)
        self._deliver("issue_comment", payload)
        return comment_id

    def press(self, check_run: dict[str, Any], sender: str = MAINTAINER) -> None:
        """The check run's Roll back button, pressed: its delivery sent to the receiver."""
        payload = webhooks.requested_action(
            self.github, REPO, int(check_run["id"]), sender, ROLLBACK_ACTION
        )
        self._deliver("check_run", payload)

    def _deliver(self, event: str, payload: dict[str, Any]) -> None:
        assert self.receiver is not None, "start the receiver first: `with receiving(world)`"
        status, said = webhooks.deliver(self.receiver, WEBHOOK_SECRET, event, payload)
        assert status == 202, said

    def deploy_runs(self) -> list[dict[str, Any]]:
        return [r for r in self.github.check_runs() if r["name"] == DEPLOY_CHECK]

    def reactions(self, comment_id: int) -> list[str]:
        return [r["content"] for r in self.github.state.reactions.get(comment_id, [])]

    def bot_comments(self, number: int) -> list[str]:
        return [
            c["body"]
            for c in self.github.comments()
            if c["issue_number"] == number and c["user"]["login"].endswith("[bot]")
        ]

    def wait_for_run(self, count: int, timeout_s: float = 300) -> dict[str, Any]:
        """The `count`th deploybot/deploy check run, once it completed."""

        def done() -> bool:
            runs = self.deploy_runs()
            return len(runs) >= count and runs[count - 1]["status"] == "completed"

        wait_for(f"deploy check run {count} to complete", done, timeout_s=timeout_s)
        return self.deploy_runs()[count - 1]

    def summary(self, number: int) -> str:
        """The pull request's on-call summary comment, as it reads now."""
        return next(c for c in self.bot_comments(number) if c.startswith(DEPLOY_SUMMARY_MARKER))

    def answered(self, number: int, count: int) -> list[str]:
        wait_for(f"{count} answers on #{number}", lambda: len(self.bot_comments(number)) >= count)
        return self.bot_comments(number)


def make_world(
    runtime: str,
    staged: Staged,
    deployment: Callable[..., Deployment],
    github: FakeGitHub,
    settings: Settings,
    redis_client: redis.Redis,
    tmp_path: Path,
) -> GitHubWorld:
    """An environment behind its HAProxy, the repository on GitHub and as the worker's remote
    (its default branch holding the environment's data/deploy.yaml), and a worker app for it."""
    env = deployment(staged, runtime)
    remotes = tmp_path / "remotes"
    (remotes / "octo").mkdir(parents=True)
    subprocess.run(
        ["git", "clone", "--quiet", str(staged.repo.path), str(remotes / REPO)], check=True
    )
    remote = GitRepo(remotes / REPO, staged.repo.author)
    github.add_repo(REPO, INSTALLATION)
    github.add_issue(REPO, ONCALL, "on-call")
    github.set_permission(REPO, MAINTAINER, "write")
    github.set_permission(REPO, SECOND_MAINTAINER, "admin")
    github.set_permission(REPO, READER, "read")
    worker_settings = replace(
        settings,
        data_dir=env.data,
        git_url=remotes.as_uri() + "/{repo}",
        deploy_lease_s=LEASE_S,
        oncall_issue=ONCALL,
    )
    world = GitHubWorld(github, redis_client, worker_app(worker_settings), env, remote)
    world.publish_config()
    return world


@contextmanager
def receiving(world: GitHubWorld) -> Iterator[GitHubWorld]:
    """The real receiver serving on loopback for the world's deliveries."""
    with serve_in_thread(create_app(world.app.settings), "receiver") as url:
        world.receiver = url
        try:
            yield world
        finally:
            world.receiver = None
