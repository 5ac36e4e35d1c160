"""`/deploy [env] --dry-run`: everything a deploy does before traffic moves, then a report of
what it would do. The sticky lock, the freeze window and the deploy lock are read, never taken
or joined; the release is staged and gated if it has none (as a deploy would: staging changes
no traffic); no colour is touched and no GitHub deployment or check run is made. One comment
on the pull request says it all, once per comment."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from redis.asyncio import Redis

from core.errors import DeploybotError
from core.settings import Settings
from deploy import places, plan
from deploy.manifest import Manifest
from deploy.progress import Step
from deploy.release import Blocked, ReleaseFailed
from workers.deploys import drive
from workers.deploys.drive import Order
from workers.deploys.records import mark_told, told
from workers.github import RepoGitHub
from workers.messages import gate_blocked, gate_table, release_failed


async def dry_run(settings: Settings, gh: RepoGitHub, redis: Redis, order: Order) -> None:
    """The dry run of `order` (a deploy), reported on its pull request."""
    said = f"dry-run:{order.delivery_id}"
    if await told(redis, said):
        return  # a copy of this task after its worker died: reported already
    env, commit = order.env, order.commit or ""
    glass = order.break_glass is not None
    with places.locks(settings.redis_url, settings.deploy_lease_s) as locks:
        verdict = await asyncio.to_thread(places.verdict, locks, env, "deploy", order.by, glass)
        holder = await asyncio.to_thread(locks.holder, env.name)
        queue = [h for _, h in await asyncio.to_thread(locks.queue, env.name)]
    steps: list[Step] = []
    staged = await _staged(settings, gh, order, steps)
    place = drive.place_of(settings, env, gh.repo)
    state = await asyncio.to_thread(place.state)
    manifest = staged.manifest
    meets = plan.verdict_line(env, verdict, holder, queue, staged.stops)
    lines = [
        f"🧪 **Dry run** of `/deploy {env.name}` for `{commit[:12]}` by @{order.by}: nothing "
        "was changed (no colour, no traffic, no GitHub deployment).",
        "",
        f"A deploy asked now would **{meets}**.",
        "",
        *_release(staged, steps),
        "",
        "What it would do:",
        *(
            f"{n}. {line}"
            for n, line in enumerate(
                plan.plan(env, state, commit, manifest.image if manifest else ""), 1
            )
        ),
        "",
        f"Deploy it with `/deploy {env.name}`.",
    ]
    await gh.comment(order.pr or 0, "\n".join(lines))
    await mark_told(redis, said)


@dataclass(frozen=True)
class Staged:
    """The release as a dry run found it: its manifest (None: not staged), why not, what stops a
    deploy there (None: nothing), and the gate's or the failure's report."""

    manifest: Manifest | None
    why: str = ""
    stops: str | None = None
    report: str = ""


def _release(staged: Staged, steps: list[Step]) -> list[str]:
    """The release and the gate's verdict, with its table."""
    timings = ", ".join(f"{s.name} {s.seconds:.1f} s" for s in steps if s.state == "done")
    if staged.manifest is not None:
        made = staged.manifest.created_at
        how = f"staged now ({timings})" if timings else f"staged before, at {made}"
        return [f"The release: {how}.", "", *gate_table(staged.manifest)]
    return [f"The release: {staged.why}.", "", staged.report]


async def _staged(settings: Settings, gh: RepoGitHub, order: Order, steps: list[Step]) -> Staged:
    """The release's manifest (staged now if it has none), or why it is not."""
    place = drive.place_of(settings, order.env, gh.repo)
    commit = order.commit or ""
    found = await asyncio.to_thread(place.staging.index(gh.repo).get, commit)
    if found is not None:
        return Staged(found)
    # Staged without the acceptance: a dry run records none (the deploy would).
    stage = await drive.stager(settings, gh, order, steps.append, accepting=False)
    try:
        return Staged(await asyncio.to_thread(stage))
    except Blocked as blocked:
        verdict = blocked.decision.verdict
        said = f"the gate says {verdict}"
        if verdict == "inconclusive" and order.accept_inconclusive is not None:
            why = (
                f"{said}; the deploy's `--accept-inconclusive` would accept it on record (by "
                f"@{order.by}: {order.accept_inconclusive})"
            )
            return Staged(None, why, None, blocked.report)
        return Staged(None, said, said, gate_blocked(verdict, blocked.report).summary)
    except ReleaseFailed as failed:
        why = f"staging failed at {failed.step}"
        return Staged(None, why, why, release_failed(failed.step, failed.detail).summary)
    except DeploybotError as exc:
        return Staged(
            None, "staging failed", "staging failed", release_failed("release", str(exc)).summary
        )
