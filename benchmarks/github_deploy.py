"""Deploys and rollbacks driven from pull requests, under the deploy benchmark's load client:
signed `/deploy` and `/rollback` deliveries go to the real receiver, a `deploybot worker` process
runs them (behind `deploybot proxy`, the process runtime), the fake GitHub records what the bot
posts. Printed: requests sent and failed (must be 0), the time from the `/deploy` delivery to
the first answer from the new release, and from the `/rollback` delivery to the first answer from
the previous one (target < 2 s with the spare warm), side by side with the same rollback asked
with `deploybot rollback` in the same run.

Needs HAProxy; Redis (the broker and the lock) is an in-process fake on loopback.
"""

from __future__ import annotations

import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from benchmarks.deploy import MIN_REQUESTS, Environment, stage_two
from benchmarks.report import Row, table
from bot.app import create_app
from core.names import DEPLOY_CHECK, DEPLOY_SUMMARY_MARKER
from core.settings import Settings
from deploy.release import Staging
from deploybot.demo import settings_for
from testkit.fakegithub.server import FakeGitHub, serve
from testkit.fakegithub.state import Pull
from testkit.gitrepo import GitRepo
from testkit.load import Load
from testkit.loopback import fake_redis
from testkit.maintainer import Maintainer
from testkit.serving import serve_in_thread

REPO: Final = "bench/tutor"
# A fresh webhook secret per run: the receiver refuses what it does not sign.
SECRET: Final = secrets.token_hex(16)
MAINTAINER: Final = "maintainer"
DONE_WITHIN_S: Final = 300.0
ROLLBACK_TARGET_S: Final = 2.0


@dataclass
class Bot:
    """The maintainer's comments, timed from the moment each is delivered."""

    people: Maintainer

    def comment(self, number: int, body: str) -> float:
        """A maintainer's comment, delivered; when the delivery was sent (monotonic)."""
        sent = time.monotonic()
        self.people.comment(number, body, MAINTAINER)
        return sent

    def completed(self, count: int) -> dict[str, Any]:
        """The `count`th deploybot/deploy check run, once completed."""
        return self.people.wait_for_run(count, DONE_WITHIN_S)


@contextmanager
def _worker(settings: Settings, log: Path) -> Iterator[None]:
    env = settings.child_environ()
    with log.open("w") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "deploybot", "worker", "--concurrency", "2"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        yield
    finally:
        worker.terminate()
        worker.wait(timeout=60)


def _publish(env: Environment, repo: Path, remotes: Path) -> None:
    """The repository as GitHub serves it to the worker: data/deploy.yaml on the default branch."""
    (remotes / "bench").mkdir(parents=True)
    subprocess.run(["git", "clone", "--quiet", str(repo), str(remotes / REPO)], check=True)  # noqa: S603, S607
    GitRepo(remotes / REPO, "bench").commit({"data/deploy.yaml": env.config.read_text()}, "config")


def _seed(github: FakeGitHub, first: str, second: str) -> None:
    github.add_repo(REPO, 1)
    github.set_permission(REPO, MAINTAINER, "write")
    for number, sha in ((1, first), (2, second)):
        merged = Pull(number, sha, state="closed", merged=True, merge_commit_sha=sha)
        merged.merged_by = MAINTAINER
        github.add_pull(REPO, merged)


def _measure(tmp: Path, redis_url: str, github: FakeGitHub, quick: bool) -> dict[str, Any]:
    staged, first, second, repo = stage_two(tmp, Staging(tmp / "staged"))
    env = Environment.beside(tmp / "process", staged, "process", redis_url, 2 if quick else 5)
    remotes = tmp / "remotes"
    _publish(env, repo, remotes)
    _seed(github, first, second)
    settings = settings_for(github, redis_url, SECRET, tmp / "process" / "data", remotes)
    with (
        env.proxied(),
        _worker(settings, tmp / "worker.log"),
        serve_in_thread(create_app(settings), "receiver") as receiver,
    ):
        people = Maintainer(github, REPO, SECRET, DEPLOY_CHECK, DEPLOY_SUMMARY_MARKER, receiver)
        bot = Bot(people)
        bot.comment(1, "/deploy")
        bot.completed(1)
        load = Load(env.front)
        with load.running():
            deployed = bot.comment(2, "/deploy")
            bot.completed(2)
            rolled = bot.comment(2, "/rollback")
            bot.completed(3)
            redeployed = bot.comment(2, "/deploy")
            bot.completed(4)
            by_cli = env.run("rollback", repo=repo)
            while len(load.answers) + len(load.failures) < MIN_REQUESTS:
                time.sleep(0.1)
        runs = people.deploy_runs()
        return {
            "sent": len(load.answers) + len(load.failures),
            "failed": load.failures,
            "deploy_s": load.first(second, deployed),
            "rollback_s": load.first(first, rolled),
            "redeploy_s": load.first(second, redeployed),
            "cli_rollback_s": load.first(first, by_cli),
            "conclusions": [r["conclusion"] for r in runs],
        }


def _show(found: dict[str, Any]) -> int:
    def seconds(value: float | None) -> str:
        return f"{value:.3f} s" if value is not None else "never"

    print(f"requests sent {found['sent']} (at least {MIN_REQUESTS}), failed {len(found['failed'])}")
    for failure in found["failed"][:5]:
        print(f"  failed: {failure}")
    print(f"/deploy delivery → first answer from the new release: {seconds(found['deploy_s'])}")
    print(
        "/rollback delivery → first answer from the previous release: "
        f"{seconds(found['rollback_s'])} (target < {ROLLBACK_TARGET_S:.0f} s, spare warm)"
    )
    print(f"check runs: {', '.join(found['conclusions'])}")
    measured = [found[k] for k in ("rollback_s", "cli_rollback_s")]
    if None not in measured:
        print(
            table(
                "rollback: asked on the pull request vs `deploybot rollback`, same environment",
                [
                    Row("/rollback delivery", [measured[0]]),
                    Row("deploybot rollback", [measured[1]]),
                ],
                baseline="deploybot rollback",
            )
        )
    ok = not found["failed"] and found["sent"] >= MIN_REQUESTS
    ok = ok and found["conclusions"] == ["success"] * 4
    ok = ok and found["rollback_s"] is not None and found["rollback_s"] < ROLLBACK_TARGET_S
    ok = ok and None not in (found["deploy_s"], found["redeploy_s"], found["cli_rollback_s"])
    print(f"github-deploy: {'PASS' if ok else 'FAIL'}: {len(found['failed'])} failed requests")
    return 0 if ok else 1


def main(quick: bool) -> int:
    print("== github-deploy: /deploy and /rollback from pull requests under load ==")
    with (
        tempfile.TemporaryDirectory(prefix="deploybot-bench-github-") as directory,
        fake_redis() as redis_url,
        serve(FakeGitHub()) as github,
    ):
        return _show(_measure(Path(directory), redis_url, github, quick))
