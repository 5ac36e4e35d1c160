"""check_suite and check_run events: runs asked for from GitHub's Checks UI."""

from __future__ import annotations

from typing import Any

from gidgethub import routing, sansio

from bot import payload
from bot.jobs import Context, Decision, Ignore, Job, on
from bot.pull_request import head_seen, pipeline_key
from core.contract import CheckRunAction, Rerun, RunPipeline
from core.errors import PayloadError
from core.names import CHECK_PREFIX, DEPLOY_CHECK, ROLLBACK_ACTION

router = routing.Router()
# Buttons (check run actions) the deploy check run offers, by identifier.
ACTIONS = (ROLLBACK_ACTION,)


def suite_requested(event: sansio.Event, context: Context) -> Decision:
    data = event.data
    pr_number = _first_pull_request(data, "check_suite")
    if pr_number is None:
        return Ignore("check suite for a commit with no open pull request")
    sha = payload.sha(data, "check_suite", "head_sha")
    repo = payload.repo_name(data)
    return Job(
        RunPipeline(
            installation_id=payload.installation_id(data),
            repo=repo,
            pr_number=pr_number,
            sha=sha,
            delivery_id=event.delivery_id,
        ),
        # Shared with pull_request events: the same commit starts one pipeline.
        logical_key=pipeline_key(payload.number(data, "repository", "id"), sha),
        note=head_seen(repo, pr_number, sha, context),
    )


def suite_rerequested(event: sansio.Event, context: Context) -> Decision:
    data = event.data
    suite_id = payload.number(data, "check_suite", "id")
    # A person may re-run a suite many times; one click is one suite state (updated_at).
    updated_at = payload.optional_text(data, "check_suite", "updated_at", max_len=64)
    return Job(
        Rerun(
            installation_id=payload.installation_id(data),
            repo=payload.repo_name(data),
            scope="suite",
            stage=None,
            check_suite_id=suite_id,
            check_run_id=None,
            sha=payload.sha(data, "check_suite", "head_sha"),
            pr_number=_first_pull_request(data, "check_suite"),
            delivery_id=event.delivery_id,
        ),
        logical_key=f"rerun:suite:{suite_id}:{updated_at}",
    )


def run_rerequested(event: sansio.Event, context: Context) -> Decision:
    data = event.data
    name = payload.text(data, "check_run", "name", max_len=255)
    if not name.startswith(CHECK_PREFIX):
        return Ignore("check run is not one of deploybot's")
    if name == DEPLOY_CHECK:
        return Ignore("deploys are re-run with /deploy, not from the check run")
    run_id = payload.number(data, "check_run", "id")
    return Job(
        Rerun(
            installation_id=payload.installation_id(data),
            repo=payload.repo_name(data),
            scope="stage",
            stage=name.removeprefix(CHECK_PREFIX),
            check_suite_id=payload.number(data, "check_run", "check_suite", "id"),
            check_run_id=run_id,
            sha=payload.sha(data, "check_run", "head_sha"),
            pr_number=_first_pull_request(data, "check_run"),
            delivery_id=event.delivery_id,
        ),
        # A re-run makes a new check run, so the next click carries a new id.
        logical_key=f"rerun:run:{run_id}",
    )


def requested_action(event: sansio.Event, context: Context) -> Decision:
    data = event.data
    if payload.text(data, "check_run", "name", max_len=255) != DEPLOY_CHECK:
        return Ignore("check run is not deploybot's deploy check run")
    identifier = payload.text(data, "requested_action", "identifier", max_len=20)
    if identifier not in ACTIONS:
        return Ignore("unknown check run action")
    run_id = payload.number(data, "check_run", "id")
    return Job(
        CheckRunAction(
            installation_id=payload.installation_id(data),
            repo=payload.repo_name(data),
            action=identifier,
            check_run_id=run_id,
            sha=payload.sha(data, "check_run", "head_sha"),
            sender=payload.text(data, "sender", "login", max_len=100),
            delivery_id=event.delivery_id,
        ),
        # One press per person per check run: a double click rolls back once, while a press
        # refused (a reader's, say) does not disable the button for a maintainer. A second
        # maintainer's press finds the release no longer live and is told so.
        logical_key=f"action:{run_id}:{identifier}:{payload.number(data, 'sender', 'id')}",
    )


def _first_pull_request(data: Any, kind: str) -> int | None:
    pulls = payload.field(data, kind, "pull_requests")
    if not isinstance(pulls, list):
        raise PayloadError(f"{kind}.pull_requests must be a list")
    return payload.number(pulls[0], "number") if pulls else None


on(router, suite_requested, "check_suite", action="requested")
on(router, suite_rerequested, "check_suite", action="rerequested")
on(router, run_rerequested, "check_run", action="rerequested")
on(router, requested_action, "check_run", action="requested_action")
