"""What people do on GitHub, delivered to the receiver as GitHub would, and what the bot answered:
the one driver of the fake GitHub's world that the demo, the tests and the benchmarks share.

The kit imports no product code, so the names the bot reports under (its deploy check run, the
marker of its on-call summary) come in from the caller."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from testkit.fakegithub import webhooks
from testkit.fakegithub.server import FakeGitHub
from testkit.fakegithub.state import Pull

POLL_S = 0.05


class NotAccepted(RuntimeError):
    """The receiver did not accept a delivery (its status and answer are in the message)."""


@dataclass
class Maintainer:
    """One repository's maintainers at work, against the receiver at `receiver`."""

    github: FakeGitHub
    repo: str
    secret: str
    deploy_check: str
    summary_marker: str
    receiver: str | None = None  # the receiver's URL while it serves

    def deliver(self, event: str, payload: dict[str, Any]) -> str:
        """One signed delivery; the receiver's answer (NotAccepted unless it queued a job)."""
        if self.receiver is None:
            raise NotAccepted("no receiver serves yet: start it first")
        status, said = webhooks.deliver(self.receiver, self.secret, event, payload)
        if status != 202:
            raise NotAccepted(f"the receiver answered {status}: {said}")
        return said

    def merged(self, number: int, sha: str, by: str, base: str = "main") -> None:
        """Pull request `number`, merged into `base` by `by` as the commit `sha`."""
        self.github.add_pull(
            self.repo,
            Pull(
                number=number,
                head_sha=sha,
                state="closed",
                merged=True,
                merge_commit_sha=sha,
                merged_by=by,
                merged_at="2026-12-01T10:00:00Z",
                base_ref=base,
            ),
        )

    def comment(self, number: int, body: str, sender: str) -> int:
        """A comment on the pull request, delivered; its id."""
        comment_id = self.github.add_comment(self.repo, number, body, sender)
        self.deliver("issue_comment", webhooks.comment_created(self.github, self.repo, comment_id))
        return comment_id

    def press(self, check_run: dict[str, Any], sender: str, identifier: str) -> None:
        """A button of the check run, pressed."""
        payload = webhooks.requested_action(
            self.github, self.repo, int(check_run["id"]), sender, identifier
        )
        self.deliver("check_run", payload)

    def deploy_runs(self) -> list[dict[str, Any]]:
        """The bot's deploy check runs, oldest first."""
        return [r for r in self.github.check_runs() if r["name"] == self.deploy_check]

    def wait_for_run(self, count: int, timeout_s: float) -> dict[str, Any]:
        """The `count`th deploy check run, once it completed (TimeoutError if it does not)."""
        deadline = time.monotonic() + timeout_s
        while True:
            runs = self.deploy_runs()
            if len(runs) >= count and runs[count - 1]["status"] == "completed":
                return runs[count - 1]
            if time.monotonic() > deadline:
                raise TimeoutError(f"deploy check run {count} did not complete in {timeout_s} s")
            time.sleep(POLL_S)

    def bot_comments(self, number: int) -> list[str]:
        """What the bot said on the pull request (or issue), oldest first."""
        return [
            c["body"]
            for c in self.github.comments()
            if c["issue_number"] == number and c["user"]["login"].endswith("[bot]")
        ]

    def summary(self, number: int) -> str:
        """The on-call summary comment on the pull request as it reads now ("" before one)."""
        found = [c for c in self.bot_comments(number) if c.startswith(self.summary_marker)]
        return found[-1] if found else ""

    def reactions(self, comment_id: int) -> list[str]:
        with self.github.lock:
            return [r["content"] for r in self.github.state.reactions.get(comment_id, [])]
