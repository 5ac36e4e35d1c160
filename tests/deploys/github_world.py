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
from testkit.fakegithub.server import FakeGitHub
from testkit.gitrepo import GitRepo
from testkit.maintainer import Maintainer
from testkit.serving import serve_in_thread
from tests.conftest import WEBHOOK_SECRET
from tests.deploys.conftest import LEASE_S, Deployment, Staged
from tests.workers.harness import wait_for
from workers.app import create_worker_app

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
    people: Maintainer  # what the repository's people do on GitHub

    def publish_config(self, **options: Any) -> None:
        """data/deploy.yaml on the default branch: what the worker reads."""
        self.env.write_config(**options)
        self.remote.commit({"data/deploy.yaml": self.env.config.read_text()}, "deploy config")

    def merged(self, number: int, sha: str, base: str = "main") -> None:
        self.people.merged(number, sha, MAINTAINER, base)

    def command(self, number: int, command: str, sender: str = MAINTAINER) -> int:
        """A comment with the command, delivered to the receiver as GitHub would."""
        return self.people.comment(number, command, sender)

    def press(self, check_run: dict[str, Any], sender: str = MAINTAINER) -> None:
        """The check run's Roll back button, pressed: its delivery sent to the receiver."""
        self.people.press(check_run, sender, ROLLBACK_ACTION)

    def check_run_edits(self, check_run_id: int) -> list[float]:
        """When each edit of the check run that left it in progress arrived (its end excluded)."""
        return [
            r.at
            for r in self.github.requests
            if r.method == "PATCH"
            and r.path.endswith(f"/check-runs/{check_run_id}")
            and r.body.get("status") == "in_progress"
        ]

    def summary_edits(self, number: int) -> list[float]:
        """When each edit of the pull request's summary comment arrived while a run was in
        progress (its headline says so)."""
        summary = next(
            c
            for c in self.github.comments()
            if c["issue_number"] == number and c["body"].startswith(DEPLOY_SUMMARY_MARKER)
        )
        return [
            r.at
            for r in self.github.requests
            if r.method == "PATCH"
            and r.path.endswith(f"/issues/comments/{summary['id']}")
            and "in progress" in r.body.get("body", "").splitlines()[1]
        ]

    def deploy_runs(self) -> list[dict[str, Any]]:
        return self.people.deploy_runs()

    def reactions(self, comment_id: int) -> list[str]:
        return self.people.reactions(comment_id)

    def bot_comments(self, number: int) -> list[str]:
        return self.people.bot_comments(number)

    def wait_for_run(self, count: int, timeout_s: float = 300) -> dict[str, Any]:
        """The `count`th deploybot/deploy check run, once it completed."""
        return self.people.wait_for_run(count, timeout_s)

    def summary(self, number: int) -> str:
        """The pull request's on-call summary comment, as it reads now."""
        return self.people.summary(number)

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
    people = Maintainer(github, REPO, WEBHOOK_SECRET, DEPLOY_CHECK, DEPLOY_SUMMARY_MARKER)
    world = GitHubWorld(
        github, redis_client, create_worker_app(worker_settings), env, remote, people
    )
    world.publish_config()
    return world


@contextmanager
def receiving(world: GitHubWorld) -> Iterator[GitHubWorld]:
    """The real receiver serving on loopback for the world's deliveries."""
    with serve_in_thread(create_app(world.app.settings), "receiver") as url:
        world.people.receiver = url
        try:
            yield world
        finally:
            world.people.receiver = None
