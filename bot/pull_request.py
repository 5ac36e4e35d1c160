"""pull_request events: CI pipelines for new head commits, and merges recorded for deploys."""

from __future__ import annotations

from gidgethub import routing, sansio

from bot import payload
from bot.jobs import Context, Decision, Ignore, Job, Note, on
from core import heads
from core.contract import RunPipeline

router = routing.Router()
PIPELINE_ACTIONS = ("opened", "synchronize", "reopened", "ready_for_review")


def pipeline_key(repo_id: int, sha: str) -> str:
    """One pipeline per commit, however many events (PR actions, check suites) ask for it."""
    return f"pipeline:{repo_id}:{sha}"


def pipeline(event: sansio.Event, context: Context) -> Decision:
    data = event.data
    draft = payload.optional_flag(data, "pull_request", "draft", default=False)
    if draft and not context.settings.run_on_draft:
        return Ignore("draft pull request: CI on drafts is off (DEPLOYBOT_RUN_ON_DRAFT)")
    sha = payload.sha(data, "pull_request", "head", "sha")
    repo, number = payload.repo_name(data), payload.number(data, "pull_request", "number")
    return Job(
        RunPipeline(
            installation_id=payload.installation_id(data),
            repo=repo,
            pr_number=number,
            sha=sha,
            delivery_id=event.delivery_id,
        ),
        logical_key=pipeline_key(payload.number(data, "repository", "id"), sha),
        note=head_seen(repo, number, sha, context),
    )


def head_seen(repo: str, number: int, sha: str, context: Context) -> Note:
    """When the receiver first heard of `sha` as the pull request's head: `/ok-to-test` approves
    a head only if it was seen before the comment came (never a push that raced it)."""
    return Note(heads.key(repo, number), sha, heads.stamp(context.received_at))


def closed(event: sansio.Event, context: Context) -> Decision:
    return Ignore("a closed pull request needs nothing: /deploy asks GitHub for its merge commit")


for _action in PIPELINE_ACTIONS:
    on(router, pipeline, "pull_request", action=_action)
on(router, closed, "pull_request", action="closed")
