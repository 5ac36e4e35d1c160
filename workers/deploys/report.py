"""A deploy or rollback as GitHub shows it: one deployment (queued → in_progress → success or
failure, the one it replaced going inactive), the deploybot/deploy check run updated at each step
with its timing and given a "Roll back" button once the release it put live serves, and the
on-call summary on the pull request (one comment, edited in place) and in the on-call issue.

Each id is recorded (workers/deploys/records.py) as soon as GitHub answers, so a copy of the task
that runs after a worker died edits what exists instead of making it twice. A GitHub outage while
a step is reported is logged and does not stop the deploy: the next update carries the truth."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, Final

from core.errors import GitHubError
from core.names import DEPLOY_CHECK, ROLLBACK_ACTION
from deploy.manifest import Manifest
from workers.check_output import output_json
from workers.deploys import oncall
from workers.deploys.oncall import Facts
from workers.deploys.records import Record, Records
from workers.github import Json, RepoGitHub

log = logging.getLogger(__name__)

ROLLBACK_BUTTON: Final = {
    "label": "Roll back",
    "description": "Flip back to the previous release",
    "identifier": ROLLBACK_ACTION,
}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def deployment_body(facts: Facts, manifest: Manifest, run_id: str) -> Json:
    """A GitHub deployment of the release: never auto-merged, no required contexts (deploybot's
    own gate decided), the digests it serves and the run it belongs to in the payload."""
    return {
        "ref": facts.commit,
        "environment": facts.env,
        "auto_merge": False,
        "required_contexts": [],
        "description": oncall.description(facts),
        "production_environment": facts.env == "production",
        "payload": {
            "run": run_id,
            "kind": facts.kind,
            "image": manifest.image or None,
            "model_digest": manifest.model_digest,
            "table_digest": manifest.table_digest,
            "pull_request": facts.pr,
        },
    }


def check_state(facts: Facts) -> tuple[str, bool]:
    """(conclusion, whether the Roll back button is offered): success when the release this run
    was for is what serves now; the button on a deploy's run only (rolling a rollback back
    would put back what was just rolled back from)."""
    live = facts.live == facts.commit
    return ("success" if facts.ok and live else "failure"), live and facts.kind == "deploy"


class Reporter:
    """The GitHub side of one run; every method is safe to call again after a crash."""

    def __init__(self, gh: RepoGitHub, records: Records, record: Record, front: str) -> None:
        self.gh = gh
        self.records = records
        self.record = record
        self.front = front

    async def _update(self, **changes: Any) -> None:
        self.record = await self.records.update(self.record, **changes)

    async def open(self, facts: Facts) -> None:
        """The check run (in progress) and the summary comments, where they do not exist yet."""
        if self.record.check_run_id is None:
            body: Json = {
                "name": DEPLOY_CHECK,
                "head_sha": facts.commit,
                "external_id": f"deploy:{self.record.delivery_id}",
                "status": "in_progress",
                "started_at": _now(),
                "output": output_json(oncall.check_output(facts)),
            }
            # An earlier copy of this run may have made it and died before recording it.
            created = await self.gh.create_check_run_once(body, made_before=True)
            await self._update(
                check_run_id=int(created["id"]), check_url=str(created.get("html_url") or "")
            )
        await self.summary(facts)

    async def progress(self, facts: Facts) -> None:
        """One more step: the check run and the pull request's summary say so (best effort)."""
        try:
            if self.record.check_run_id is not None:
                body = {"status": "in_progress", "output": output_json(oncall.check_output(facts))}
                await self.gh.update_check_run(self.record.check_run_id, body)
            await self.summary(facts, oncall_issue=None)
        except GitHubError as exc:
            log.warning("deploy %s: could not report a step (%s)", self.record.run_id, exc)

    async def deployment(self, facts: Facts, manifest: Manifest, run_id: str) -> None:
        """The GitHub deployment of the release, queued then in progress."""
        if self.record.deployment_id is not None:
            return
        created = await self.gh.create_deployment(deployment_body(facts, manifest, run_id))
        await self._update(deployment_id=int(created["id"]))
        await self._status("queued", facts)
        await self._status("in_progress", facts)

    async def _status(self, state: str, facts: Facts) -> None:
        if self.record.deployment_id is None:
            return
        body: Json = {
            "state": state,
            "description": oncall.description(facts),
            "environment": facts.env,
            "environment_url": f"http://{self.front}",
            "auto_inactive": True,
        }
        if self.record.check_url:
            body["log_url"] = self.record.check_url
        await self.gh.create_deployment_status(self.record.deployment_id, body)

    async def summary(self, facts: Facts, oncall_issue: int | None = None) -> None:
        """The pull request's summary comment (created once per PR, then edited in place) and,
        given an on-call issue, this run's comment there."""
        body = oncall.summary(facts)
        pr = self.record.pr
        if pr is not None:
            existing = self.record.comment_id or await self.records.summary_comment(pr)
            if existing is None:
                created = await self.gh.comment(pr, body)
                existing = int(created["id"])
                await self.records.set_summary_comment(pr, existing)
            else:
                await self.gh.edit_comment(existing, body)
            if self.record.comment_id != existing:
                await self._update(comment_id=existing)
        if oncall_issue is not None:
            if self.record.oncall_comment_id is None:
                created = await self.gh.comment(oncall_issue, body)
                await self._update(oncall_comment_id=int(created["id"]))
            else:
                await self.gh.edit_comment(self.record.oncall_comment_id, body)

    async def finish(self, facts: Facts, oncall_issue: int | None) -> None:
        """Everything made true at the end: the check run completed (with its button when the
        release serves), the deployment's last status, the summaries."""
        conclusion, live = check_state(facts)
        if self.record.check_run_id is not None:
            body: Json = {
                "status": "completed",
                "conclusion": conclusion,
                "completed_at": _now(),
                "output": output_json(oncall.check_output(facts)),
            }
            if live:
                body["actions"] = [ROLLBACK_BUTTON]
            await self.gh.update_check_run(self.record.check_run_id, body)
        await self._status("success" if conclusion == "success" else "failure", facts)
        await self.summary(facts, oncall_issue)
