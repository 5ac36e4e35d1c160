"""A release made from the worker: a checkout of the commit, then deploy/release.py's build,
stage and gate against the engine (DOCKER_HOST) and the registry (DEPLOYBOT_REGISTRY), checked
as a check run's conclusion and output. A tag's gate uses it, and /deploy when the merge commit
has no release yet: what both CI and deploys use, so it lives in workers/ itself."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from core.errors import DeploybotError
from core.settings import Settings
from deploy import places
from deploy import release as releases
from deploy.manifest import Manifest, Override
from deploy.progress import Step
from deploy.release import Blocked, ReleaseFailed, ReleaseRequest
from workers import messages
from workers.check_output import Output
from workers.checkout import Workspace


@dataclass(frozen=True)
class Wanted:
    repository: str
    commit: str
    triggered_by: str  # tag | deploy
    requested_by: str
    override: Override | None = None


async def checked(settings: Settings, workspace: Workspace, wanted: Wanted) -> tuple[str, Output]:
    """(conclusion, output) of staging the release; the manifest's summary when it is accepted."""
    if settings.registry is None:
        return "neutral", messages.NOT_STAGED
    steps: list[Step] = []
    try:
        manifest = await asyncio.to_thread(release, settings, workspace, wanted, True, steps.append)
    except Blocked as blocked:
        return "failure", messages.gate_blocked(blocked.decision.verdict, blocked.report)
    except ReleaseFailed as failed:
        return "failure", messages.release_failed(failed.step, failed.detail)
    except DeploybotError as exc:
        return "failure", messages.release_failed("release", str(exc))
    return "success", messages.gate_passed(manifest, steps)


def release(
    settings: Settings,
    workspace: Workspace,
    wanted: Wanted,
    docker: bool,
    progress: Callable[[Step], None],
    token: str | None = None,
) -> Manifest:
    """Check the commit out and run the release's steps on it: with an image in the registry
    when `docker`, else the served tree alone (what the process runtime deploys). Blocked,
    ReleaseFailed or another DeploybotError when it is not recorded."""
    where = places.release_staging(settings, docker)
    # A checkout of this staging alone: another staging of the same commit at once (a tag and
    # a /deploy) checks out and removes its own.
    source = settings.data_dir / "releasing" / f"{wanted.commit}-{uuid.uuid4().hex[:8]}"
    try:
        workspace.checkout(wanted.commit, source, token)
        request = ReleaseRequest(
            wanted.repository,
            wanted.commit,
            source,
            wanted.triggered_by,
            wanted.requested_by,
            override=wanted.override,
        )
        return releases.release(where, request, progress)
    finally:
        shutil.rmtree(source, ignore_errors=True)
