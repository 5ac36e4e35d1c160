"""/deploy, /rollback and the Roll back button, driven through deploy/'s engine.

A run is keyed by the delivery that asked for it (workers/deploys/records.py). Its engine run id is
recorded before the engine starts, so a copy of the task started after its worker died (the
`recover` task re-sends it) settles what the ledger says was left, under the lock, and makes
GitHub true, instead of deploying again. The engine runs in a thread (it is synchronous and
holds the environment's lease); its steps reach GitHub through a queue, so a slow or failing
GitHub never holds up a flip.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Final

from redis.asyncio import Redis
from redis.exceptions import RedisError

from core.contract import RunDeploy
from core.errors import CheckoutError, DeploybotError, LeaseLost, TransientError, WaitingTurn
from core.settings import Settings
from deploy import control, places, runs
from deploy.config import Environment
from deploy.engine import Engine, Place, Result, outcome_of, unfit
from deploy.lock import Busy, Holder, Lease, LockBusy, Locks, Withdrawn, holder_now
from deploy.machine import BLOCKED, FAILED, REFUSED
from deploy.manifest import Manifest, Override
from deploy.progress import Step
from deploy.release import Blocked, ReleaseFailed
from workers import releasing
from workers.checkout import Workspace, clone_url, workspace_root
from workers.deploys import messages
from workers.deploys.oncall import Facts
from workers.deploys.records import Home, Record, Records, mark_told, remember_home, told
from workers.deploys.report import Reporter
from workers.github import RepoGitHub
from workers.messages import gate_blocked
from workers.metrics import worker_metrics

log = logging.getLogger(__name__)

# How soon a queued deploy asks for its turn again (its ticket lives deploy.lock.TICKET_S).
TURN_POLL_S: Final = 1.0
# The check run and the summary comment are each edited at most this often during a run.
REPORT_EVERY_S: Final = 1.0


@dataclass(frozen=True)
class Order:
    """What a maintainer asked for, checked: the kind, the environment, the release."""

    kind: str  # deploy | rollback
    env: Environment
    commit: str | None  # deploy: the merge commit; rollback: the target (None: the previous)
    by: str
    pr: int | None
    delivery_id: str
    # A deploy's flags, allowed by the command task: the reasons given.
    accept_inconclusive: str | None = None
    break_glass: str | None = None
    branch: str | None = None  # the default branch it was merged into (a revert is looked for)


@dataclass
class Reported:
    """One run as the worker reports it: its record, the steps so far, the release's manifest."""

    place: Place
    order: Order
    record: Record
    steps: list[Step] = field(default_factory=list)
    manifest: Manifest | None = None

    def step(self, step: Step) -> None:
        if self.steps and self.steps[-1].name == step.name and self.steps[-1].state == "started":
            self.steps[-1] = step
        else:
            self.steps.append(step)

    def ended(self, outcome: str, detail: str, step: str | None) -> Result:
        """This run's end, before the engine (or instead of it)."""
        return Result(outcome, self.record.commit, detail, step)

    async def facts(self, records: Records, ended: Result | None) -> Facts:
        return await _facts(
            records,
            self.place,
            self.order,
            ended,
            commit=self.record.commit,
            before=self.record.before,
            steps=tuple(self.steps),
            manifest=self.manifest,
            check_url=self.record.check_url,
            broke_glass=self.record.broke_glass,
        )


async def _facts(
    records: Records,
    place: Place,
    order: Order,
    ended: Result | None,
    *,
    commit: str,
    before: str | None,
    steps: tuple[Step, ...] = (),
    manifest: Manifest | None = None,
    check_url: str | None = None,
    broke_glass: dict[str, str] | None = None,
) -> Facts:
    """What a run's reports say: the order, how it ended (None: still running), and what the
    ledger says is live now."""
    live = (await asyncio.to_thread(place.state)).live
    return Facts(
        env=order.env.name,
        front=str(order.env.front),
        kind=order.kind,
        commit=commit,
        by=order.by,
        pr=order.pr,
        ended=ended,
        live=live.commit if live else None,
        live_since=live.since if live else None,
        live_pr=await records.pull_of(live.commit if live else None),
        before=before,
        before_pr=await records.pull_of(before),
        steps=steps,
        manifest=manifest,
        check_url=check_url,
        broke_glass=broke_glass,
    )


def place_of(settings: Settings, env: Environment, repository: str) -> Place:
    return places.place(settings.data_dir, env, repository)


def _holder(order: Order, commit: str, link: str | None) -> Holder:
    return holder_now(order.by, order.kind, commit, pr=order.pr, link=link or "")


async def drive(settings: Settings, gh: RepoGitHub, redis: Redis, order: Order) -> Facts:
    """Run the order (or settle what an earlier copy of it left), reported on GitHub; the facts
    it ended with. A TransientError (GitHub or the lock's Redis away) propagates for the task to
    retry: the record lets the retry carry on where this one stopped."""
    records = Records(redis, gh.repo)
    await remember_home(redis, order.env.name, Home(gh.repo, gh.installation_id))
    place = place_of(settings, order.env, gh.repo)
    record = await records.get(order.delivery_id)
    if record is None:
        made = await _new_record(records, place, order)
        if isinstance(made, Result):
            return await _nothing_to_roll_back(records, place, order, made)
        record = made
    run = Reported(place, order, record)
    run.manifest = await asyncio.to_thread(place.staging.index(gh.repo).get, record.commit)
    if record.finished:
        return await run.facts(records, record.ended)
    with places.locks(settings.redis_url, settings.deploy_lease_s) as locks:
        resumed = await asyncio.to_thread(_resumed, place, record)
        before = None if resumed else await _before_lock(settings, gh, redis, run, locks)
        if isinstance(before, Result):
            return await run.facts(records, before)
        reporter = Reporter(gh, records, run.record, str(order.env.front))
        try:
            await reporter.open(await run.facts(records, None))
            ended = await _execute(settings, gh, run, reporter, records, locks, resumed, before)
        finally:
            if before is not None:  # a queued deploy's turn: taken (and released) here
                await asyncio.to_thread(before.release)
    live = (await asyncio.to_thread(place.state)).live
    deployed = order.kind == "deploy" and live is not None and live.commit == record.commit
    if deployed and order.pr is not None:
        # The pull request a release came from (a rollback to it later does not change that).
        await records.set_pull_of(record.commit, order.pr)
    facts = await run.facts(records, ended)
    await reporter.finish(facts, settings.oncall_issue)
    await records.update(reporter.record, finished=True, outcome=asdict(ended))
    return facts


async def _new_record(records: Records, place: Place, order: Order) -> Record | Result:
    """The record of a new run, or how a rollback with nothing to roll back to ended."""
    state = await asyncio.to_thread(place.state)
    commit = order.commit
    if order.kind == "rollback" and commit is None:
        found = runs.target(place, state, None)
        if isinstance(found, Result):
            return found
        commit = found
    assert commit is not None  # noqa: S101 - a deploy's order names its merge commit
    return await records.put(
        Record(
            delivery_id=order.delivery_id,
            kind=order.kind,
            env=order.env.name,
            commit=commit,
            by=order.by,
            pr=order.pr,
            run_id=uuid.uuid4().hex[:12],
            before=state.live.commit if state.live else None,
            named=order.commit is not None,
        )
    )


async def _nothing_to_roll_back(
    records: Records, place: Place, order: Order, ended: Result
) -> Facts:
    live = (await asyncio.to_thread(place.state)).live
    before = live.commit if live else None
    return await _facts(records, place, order, ended, commit="", before=before)


async def say(gh: RepoGitHub, pr: int | None, text: str) -> None:
    """A reply on the pull request the run was asked on (a log line when there is none)."""
    if pr is None:
        log.warning("%s: %s", gh.repo, text)
    else:
        await gh.comment(pr, text)


async def _before_lock(
    settings: Settings, gh: RepoGitHub, redis: Redis, run: Reported, locks: Locks
) -> Lease | Result | None:
    """What comes before the environment's lock is taken: a deploy a sticky lock or a freeze
    holds back (or, at its turn, whose pull request was reverted since) is refused; a queued
    deploy takes its turn in the order asked (its lease once it comes; WaitingTurn until then,
    the task asked again shortly with no worker slot held, the pull request told its place
    once); a rollback says whose sticky lock it passes; a run that finds the lock held says by
    whom, and is refused (how it ended) where the environment refuses. None: go on."""
    order = run.order
    records = Records(redis, gh.repo)
    if order.kind == "deploy":
        if await asyncio.to_thread(locks.withdrawn, order.env.name, order.delivery_id):
            return await _withdrawn(records, run)
        refused = await _held_back(settings, gh, redis, run, locks)
        if refused is not None:
            return refused
        if order.env.lock == "queue":
            return await _turn(gh, redis, run, locks)
    else:
        verdict = await asyncio.to_thread(
            places.verdict, locks, order.env, order.kind, order.by, False
        )
        if verdict.passed_lock is not None:
            await say(gh, order.pr, messages.lock_passed(order.env.name, verdict.passed_lock))
    holder = await asyncio.to_thread(locks.holder, order.env.name)
    if holder is None:
        return None
    busy = _busy(order)
    await say(gh, order.pr, messages.deploy_locked(order.env.name, holder, busy))
    if busy != "refuse":
        return None
    ended = run.ended(REFUSED, f"locked by the {holder.describe()}", "lock")
    run.record = await records.update(run.record, finished=True, outcome=asdict(ended))
    return ended


async def _held_back(
    settings: Settings, gh: RepoGitHub, redis: Redis, run: Reported, locks: Locks
) -> Result | None:
    """A deploy refused by the environment's sticky lock or freeze window, or dropped at its
    turn because its pull request was reverted or closed since: said, out of the queue, ended.
    None: it goes on (its broken glass recorded)."""
    order, env = run.order, run.order.env
    records = Records(redis, gh.repo)
    glass = order.break_glass is not None
    verdict = await asyncio.to_thread(places.verdict, locks, env, "deploy", order.by, glass)
    if verdict.refused is not None:
        said = messages.control_refused(env, verdict, datetime.now(UTC))
        why = f"{env.name} is {verdict.refused}"
    else:
        # A deploy that waited (its place said by the command task or by itself) is looked at
        # again when its turn comes.
        waited = run.record.queued or await told(redis, f"queued:{order.delivery_id}")
        dropped = await _dropped(settings, gh, run) if waited else None
        if dropped is None:
            if verdict.broke_glass is not None and order.break_glass is not None:
                broke = control.glass(order.by, order.break_glass, verdict.broke_glass)
                run.record = await records.update(run.record, broke_glass=broke)
            return None
        said, why = messages.dropped(env.name, order.pr or 0, dropped), dropped
    await asyncio.to_thread(locks.leave, env.name, order.delivery_id)
    await say(gh, order.pr, said)
    ended = run.ended(REFUSED, why, "lock")
    run.record = await records.update(run.record, finished=True, outcome=asdict(ended))
    return ended


async def _dropped(settings: Settings, gh: RepoGitHub, run: Reported) -> str | None:
    """Why a queued deploy's pull request is no longer one to deploy (None: it still is)."""
    order, commit = run.order, run.record.commit
    if order.pr is None:
        return None
    branch = order.branch or (await gh.pull(order.pr)).default_branch
    workspace = Workspace(workspace_root(settings), clone_url(settings, gh.repo))
    try:
        token = await gh.token()
        reverting = await asyncio.to_thread(workspace.reverted, branch, commit, token)
    except CheckoutError as exc:  # git away: the deploy goes on, as it would have
        log.warning("deploy %s: cannot look for a revert: %s", run.record.run_id, exc)
        return None
    if reverting is None:
        return None
    return f"its merge commit `{commit[:12]}` was reverted on `{branch}` by `{reverting[:12]}`"


async def _turn(gh: RepoGitHub, redis: Redis, run: Reported, locks: Locks) -> Lease | Result:
    order, record, env = run.order, run.record, run.order.env.name
    records = Records(redis, gh.repo)
    holder = _holder(order, record.commit, record.check_url)
    try:
        taken = await asyncio.to_thread(locks.take_turn, env, holder, order.delivery_id)
    except Withdrawn:
        return await _withdrawn(records, run)
    if isinstance(taken, Lease):
        # Waiting no more: no later try of this task joins the queue again.
        if record.queued:
            run.record = await records.update(record, queued=False)
        return taken
    if not record.queued:
        if not await told(redis, f"queued:{order.delivery_id}"):
            current = await asyncio.to_thread(locks.holder, env)
            ahead = await asyncio.to_thread(locks.ahead, env, order.delivery_id)
            await say(gh, order.pr, messages.deploy_queued(env, current, ahead))
            await mark_told(redis, f"queued:{order.delivery_id}")
        run.record = await records.update(record, queued=True)
    raise WaitingTurn(f"{env}: number {taken} in the queue", TURN_POLL_S)


async def _withdrawn(records: Records, run: Reported) -> Result:
    """A queued deploy withdrawn by /cancel (which said so): ended, nothing done."""
    ended = run.ended(REFUSED, f"withdrawn from {run.order.env.name}'s queue by /cancel", "lock")
    run.record = await records.update(run.record, finished=True, outcome=asdict(ended))
    return ended


async def still_queued(settings: Settings, redis: Redis, repo: str, delivery_id: str) -> None:
    """WaitingTurn while the queued deploy of this delivery has not come to its turn: asked
    first thing on each of its task's tries, before any GitHub or git work, so a wait costs a
    Redis call a second and no worker slot in between."""
    record = await Records(redis, repo).get(delivery_id)
    if record is None or not record.queued or record.finished:
        return
    holder = holder_now(record.by, "deploy", record.commit, record.pr, record.check_url or "")
    with places.locks(settings.redis_url, settings.deploy_lease_s) as locks:
        came = await asyncio.to_thread(locks.turn_came, record.env, holder, delivery_id)
    if not came:
        raise WaitingTurn(f"{record.env}: still waiting its turn", TURN_POLL_S)


async def keep_places(settings: Settings, waiting: list[RunDeploy]) -> None:
    """Each deploy listed as a run keeps its place in its environment's queue, however long its
    task waits for a worker slot (a place not asked for deploy.lock.TICKET_S is otherwise taken
    for its waiter's death). `recover` asks, every minute."""
    if not waiting:
        return
    with places.locks(settings.redis_url, settings.deploy_lease_s) as locks:
        for message in waiting:
            await asyncio.to_thread(locks.keep, message.env, message.delivery_id)


def _busy(order: Order) -> Busy:
    return "preempt" if order.kind == "rollback" else order.env.lock


def _resumed(place: Place, record: Record) -> bool:
    """Whether an earlier copy of this run got as far as the engine."""
    return any(e.deploy == record.run_id for e in place.ledger.entries())


def _ended_from_ledger(place: Place, record: Record) -> Result | None:
    return outcome_of(place.state(), record.run_id)


class Feed:
    """The engine's steps, from its thread to GitHub in order, coalesced: what arrives within a
    second of the last report goes into the next, so the check run and the summary are each
    edited at most once a second. Reporting a step is best effort: the deploy never waits on
    it, and the run's end reports the whole truth, however soon it comes."""

    def __init__(self, run: Reported, reporter: Reporter, records: Records) -> None:
        self._run = run
        self._reporter = reporter
        self._records = records
        self._loop = asyncio.get_running_loop()
        self._steps: asyncio.Queue[Step | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._reported = -REPORT_EVERY_S  # when the last report ended (loop time)

    def __call__(self, step: Step) -> None:
        self._loop.call_soon_threadsafe(self._steps.put_nowait, step)
        if step.state != "started":
            order = self._run.order
            worker_metrics().deploy_step(
                order.env.name, order.kind, step.name, step.state, step.seconds
            )

    async def _report(self) -> None:
        while (step := await self._steps.get()) is not None:
            self._run.step(step)
            if not await self._gather(until=self._reported + REPORT_EVERY_S):
                return
            try:
                await self._reporter.progress(await self._run.facts(self._records, None))
            except RedisError as exc:
                log.warning("deploy %s: a step went unreported (%s)", self._run.record.run_id, exc)
            self._reported = self._loop.time()

    async def _gather(self, until: float) -> bool:
        """Take the steps waiting and those that arrive before `until`; False at the run's end."""
        while True:
            while not self._steps.empty():
                more = self._steps.get_nowait()
                if more is None:
                    return False
                self._run.step(more)
            left = until - self._loop.time()
            if left <= 0:
                return True
            try:
                more = await asyncio.wait_for(self._steps.get(), left)
            except TimeoutError:
                return True
            if more is None:
                return False
            self._run.step(more)

    async def __aenter__(self) -> Feed:
        self._task = asyncio.create_task(self._report())
        return self

    async def __aexit__(self, *_: object) -> None:
        self._steps.put_nowait(None)
        if self._task is not None:
            await self._task


async def _execute(
    settings: Settings,
    gh: RepoGitHub,
    run: Reported,
    reporter: Reporter,
    records: Records,
    locks: Locks,
    resumed: bool,
    taken: Lease | None,
) -> Result:
    """The run under the environment's lock (`taken` already, or taken here) before anything
    is staged or started."""
    async with Feed(run, reporter, records) as feed:
        if resumed:
            found = await asyncio.to_thread(_ended_from_ledger, run.place, run.record)
            if found is not None:
                return found
            return await asyncio.to_thread(_settle, run, locks, feed)
        if run.order.kind == "rollback":
            refusal = unfit(run.manifest, run.record.commit, run.place.repository)
            if refusal is not None:  # said before the lock is taken: no deploy is stopped
                return run.ended(FAILED, f"{refusal}; nothing was done", "resolve")
        holder = _holder(run.order, run.record.commit, reporter.record.check_url)
        try:
            lease = (
                taken
                if taken is not None
                else await asyncio.to_thread(
                    locks.acquire, run.order.env.name, holder, _busy(run.order)
                )
            )
        except LockBusy as busy:
            return run.ended(REFUSED, str(busy), "lock")
        try:
            return await _locked(settings, gh, run, reporter, records, lease, feed)
        except LeaseLost as lost:
            # Taken over by a rollback, or lapsed while Redis was away: whoever holds the lock
            # next settles what this run left.
            detail = f"{lost}; the next holder of the lock settles this run"
            return run.ended(FAILED, detail, "lock")
        except TransientError:
            raise
        except DeploybotError as exc:
            return run.ended(FAILED, str(exc), "resolve")
        finally:
            if taken is None:  # a lease taken here; the caller releases the one it passed
                await asyncio.to_thread(lease.release)


async def _locked(
    settings: Settings,
    gh: RepoGitHub,
    run: Reported,
    reporter: Reporter,
    records: Records,
    lease: Lease,
    feed: Feed,
) -> Result:
    order, record = run.order, run.record
    note: dict[str, object] | None = (
        {"break_glass": record.broke_glass} if record.broke_glass else None
    )
    ask = runs.Ask(order.kind, record.commit, _by(order), record.named, record.run_id, note)
    locked = runs.Locked(run.place, ask, lease, feed)
    staged = await _stage(settings, gh, run, locked)
    if isinstance(staged, Result):
        return staged
    run.manifest = staged
    if run.manifest is not None:
        await reporter.deployment(await run.facts(records, None), run.manifest, record.run_id)
    ended = await asyncio.to_thread(locked.engine)
    registry = settings.require_registry if order.env.runtime == "docker" else None
    kept = await asyncio.to_thread(runs.retain_after, ended, ask, run.place, registry)
    if kept is not None:
        (log.info if kept[0] else log.warning)("deploy %s: %s", record.run_id, kept[1])
    return ended


def _settle(run: Reported, locks: Locks, on_step: Callable[[Step], None]) -> Result:
    """The run an earlier copy of this task began and did not finish: reconciled under the lock
    (once its dead holder's lease lapsed), then read back from the ledger."""
    order, record = run.order, run.record
    holder = holder_now(order.by, "reconcile", record.commit, pr=order.pr)
    rollback = order.kind == "rollback"
    try:
        with locks.acquire(order.env.name, holder, "preempt" if rollback else "refuse") as lease:
            Engine(run.place, on_step, _by(order), lease).reconcile(rollback and not record.named)
    except LockBusy:
        # Every holder settles what a dead one left before anything else: look again shortly,
        # with no slot held meanwhile (and never in line behind the deploys queued since).
        raise WaitingTurn(f"{order.env.name}: another run settles it", TURN_POLL_S) from None
    except LeaseLost:
        pass  # taken over in turn: the new holder settles it
    return _ended_from_ledger(run.place, record) or run.ended(
        FAILED, "no outcome in the ledger", None
    )


def _by(order: Order) -> str:
    """Who the ledger says asked: the login and the pull request."""
    return f"{order.by} (#{order.pr})" if order.pr is not None else order.by


async def stager(
    settings: Settings,
    gh: RepoGitHub,
    order: Order,
    progress: Callable[[Step], None],
    accepting: bool,
) -> Callable[[], Manifest]:
    """What builds, stages and gates the release of `order`'s commit from a checkout, each step
    to `progress` (Blocked, ReleaseFailed or another DeploybotError when it is not recorded);
    with `accepting`, its --accept-inconclusive recorded (a dry run records none)."""
    workspace = Workspace(workspace_root(settings), clone_url(settings, gh.repo))
    accepted = order.accept_inconclusive if accepting else None
    override = Override(order.by, accepted) if accepted is not None else None
    wanted = releasing.Wanted(gh.repo, order.commit or "", "deploy", order.by, override)
    docker = order.env.runtime == "docker"
    token = await gh.token()
    return lambda: releasing.release(settings, workspace, wanted, docker, progress, token)


async def _stage(
    settings: Settings, gh: RepoGitHub, run: Reported, locked: runs.Locked
) -> Manifest | Result | None:
    """The release put live: a merge commit with none is built, staged and gated now, each
    step reported."""
    order = run.order
    if run.manifest is not None or order.kind != "deploy":
        return run.manifest
    stage = await stager(settings, gh, order, locked.progress, accepting=True)
    try:
        return await asyncio.to_thread(locked.release, stage)
    except Blocked as blocked:
        advice = gate_blocked(blocked.decision.verdict, blocked.report).summary
        return run.ended(BLOCKED, advice, "gate")
    except ReleaseFailed as failed:
        return run.ended(FAILED, failed.detail, failed.step)
    except DeploybotError as exc:
        return run.ended(FAILED, str(exc), "release")
