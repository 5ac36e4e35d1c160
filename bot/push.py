"""push events: `v*` tags start a release; pushes to the default branch are recorded."""

from __future__ import annotations

import re
from typing import Any

from gidgethub import routing

from bot import payload
from bot.jobs import Decision, Ignore, Job, Scalar, on
from core import task_names
from core.settings import Settings

router = routing.Router()
RELEASE_TAG = re.compile(r"refs/tags/(v[0-9A-Za-z._+-]{0,100})")


def push(data: Any, settings: Settings) -> Decision:
    ref = payload.text(data, "ref", max_len=1024)
    if payload.flag(data, "deleted"):
        return Ignore("deleted ref")
    repo_id = payload.number(data, "repository", "id")
    common: dict[str, Scalar] = {
        "installation_id": payload.installation_id(data),
        "repo": payload.repo_name(data),
    }
    sha = payload.sha(data, "after")
    default_branch = payload.text(data, "repository", "default_branch", max_len=255)
    tag = RELEASE_TAG.fullmatch(ref)
    if tag:
        # The release reads its matrix from the default branch, never from the tagged tree.
        return Job(
            task_names.RELEASE,
            {**common, "tag": tag.group(1), "sha": sha, "default_branch": default_branch},
            logical_key=f"release:{repo_id}:{tag.group(1)}:{sha}",
        )
    if ref == f"refs/heads/{default_branch}":
        return Job(
            task_names.RECORD_PUSH,
            {**common, "branch": default_branch, "sha": sha},
            logical_key=f"push:{repo_id}:{default_branch}:{sha}",
        )
    return Ignore("push to a ref that is neither a v* tag nor the default branch")


on(router, push, "push")
