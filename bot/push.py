"""push events: `v*` tags start a release; pushes to the default branch are recorded."""

from __future__ import annotations

import re

from gidgethub import routing, sansio

from bot import payload
from bot.jobs import Context, Decision, Ignore, Job, on
from core.contract import RecordPush, RunRelease

router = routing.Router()
RELEASE_TAG = re.compile(r"refs/tags/(v[0-9A-Za-z._+-]{0,100})")


def push(event: sansio.Event, context: Context) -> Decision:
    data = event.data
    ref = payload.text(data, "ref", max_len=1024)
    if payload.flag(data, "deleted"):
        return Ignore("deleted ref")
    repo_id = payload.number(data, "repository", "id")
    installation_id, repo = payload.installation_id(data), payload.repo_name(data)
    sha = payload.sha(data, "after")
    default_branch = payload.text(data, "repository", "default_branch", max_len=255)
    tag = RELEASE_TAG.fullmatch(ref)
    if tag:
        # The release reads its matrix from the default branch, never from the tagged tree.
        return Job(
            RunRelease(
                installation_id=installation_id,
                repo=repo,
                tag=tag.group(1),
                sha=sha,
                default_branch=default_branch,
                sender=payload.text(data, "sender", "login", max_len=100),
                delivery_id=event.delivery_id,
            ),
            logical_key=f"release:{repo_id}:{tag.group(1)}:{sha}",
        )
    if ref == f"refs/heads/{default_branch}":
        return Job(
            RecordPush(
                installation_id=installation_id,
                repo=repo,
                branch=default_branch,
                sha=sha,
                delivery_id=event.delivery_id,
            ),
            logical_key=f"push:{repo_id}:{default_branch}:{sha}",
        )
    return Ignore("push to a ref that is neither a v* tag nor the default branch")


on(router, push, "push")
