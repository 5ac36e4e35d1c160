"""Stage a release from the worker: a checkout of the commit, then deploy/release.py's build,
stage and gate against the engine (DOCKER_HOST) and the registry (DEPLOYBOT_REGISTRY); the
outcome as a check run's conclusion and output. Tag releases use it, and /deploy when the merge
commit has no release yet."""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import dataclass

from core.errors import DeploybotError
from core.settings import Settings
from deploy.manifest import Manifest, Override
from deploy.progress import Step
from deploy.release import Blocked, ReleaseFailed, Request, Staging, release
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


async def stage(settings: Settings, workspace: Workspace, wanted: Wanted) -> tuple[str, Output]:
    """(conclusion, output) of staging the release; the manifest's summary when it is accepted."""
    if settings.registry is None:
        return "neutral", messages.NOT_STAGED
    try:
        manifest, steps = await asyncio.to_thread(_stage, settings, workspace, wanted)
    except Blocked as blocked:
        return "failure", messages.gate_blocked(blocked.decision.verdict, blocked.report)
    except ReleaseFailed as failed:
        return "failure", messages.release_failed(failed.step, failed.detail)
    except DeploybotError as exc:
        return "failure", messages.release_failed("release", str(exc))
    return "success", messages.gate_passed(manifest, steps)


def _stage(settings: Settings, workspace: Workspace, wanted: Wanted) -> tuple[Manifest, list[Step]]:
    import docker

    from deploy.registry import Registry

    client = docker.from_env(timeout=600)
    where = Staging(settings.data_dir, Registry(settings.require_registry(), client), client)
    source = settings.data_dir / "releasing" / wanted.commit
    steps: list[Step] = []
    try:
        workspace.checkout(wanted.commit, source)
        request = Request(
            wanted.repository,
            wanted.commit,
            source,
            wanted.triggered_by,
            wanted.requested_by,
            override=wanted.override,
        )
        return release(where, request, steps.append), steps
    finally:
        shutil.rmtree(source, ignore_errors=True)
