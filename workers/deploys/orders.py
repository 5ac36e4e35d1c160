"""/deploy, /rollback and /status, and the deploy check run's Roll back button: each checked here
(data/deploy.yaml from the default branch, the environment, the sender's permission asked of
GitHub now, a merged pull request, a release still live) and then run through
workers/deploys/drive.py. Every refusal is answered in words with 😕 and changes nothing."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from redis.asyncio import Redis

from core import heads
from core.contract import CheckRunAction, Message, RunCommand, RunDeploy
from core.errors import CheckoutError, DeploybotError, TransientError, WaitingTurn
from core.settings import Settings
from deploy import places, runs
from deploy.config import DEFAULT_PATH, DeployConfig, Environment, load_config
from deploy.lock import Holder, Locks, holder_now
from deploy.sticky import hold_now
from workers import run_state
from workers.checkout import Workspace, clone_url, workspace_root
from workers.deploys import drive, messages
from workers.deploys.drive import Order
from workers.deploys.dry_run import dry_run
from workers.deploys.oncall import Facts
from workers.deploys.records import Records, mark_told
from workers.github import PullInfo, RepoGitHub, allows, repo_github
from workers.messages import needs_permission
from workers.worker import Send

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Asked:
    """Who asked for what, where to answer."""

    sender: str
    pr: int | None
    comment_id: int | None


async def _config(
    settings: Settings, gh: RepoGitHub, branch: str, *, retry_fetch: bool = False
) -> DeployConfig | str:
    """The deploy configuration of the default branch, or why it cannot be used. With
    `retry_fetch` (a deploy accepted already), a fetch that failed is a TransientError: the
    deploy is tried again, not refused for a network blip."""
    workspace = Workspace(workspace_root(settings), clone_url(settings, gh.repo))
    try:
        text = await asyncio.to_thread(
            workspace.read_file_at, branch, DEFAULT_PATH, await gh.token()
        )
        return load_config(text, DEFAULT_PATH)
    except FileNotFoundError:
        return f"{DEFAULT_PATH}:1: the file does not exist on {branch}"
    except CheckoutError as exc:
        if retry_fetch:
            raise TransientError(f"cannot fetch {branch} for {DEFAULT_PATH}: {exc}", 30) from exc
        return f"{DEFAULT_PATH}:1: cannot fetch {branch}: {exc}"
    except DeploybotError as exc:
        return str(exc)


async def refuse(gh: RepoGitHub, asked: Asked, text: str) -> None:
    if asked.comment_id is not None:
        await gh.react(asked.comment_id, "confused")
    await drive.say(gh, asked.pr, text)


@dataclass(frozen=True)
class Allowed:
    """An environment a sender may act on, with their permission and the configuration."""

    env: Environment
    level: str
    config: DeployConfig


# Which environment a command names, once the configuration is read (/lock's words need it).
Choose = Callable[[DeployConfig], str | None]


async def _environment(
    settings: Settings, gh: RepoGitHub, asked: Asked, what: str, choose: Choose, branch: str
) -> Allowed | None:
    """The environment `choose` names (None after answering why not). The sender's permission
    is asked of GitHub first (someone with none costs no fetch), then checked against the
    environment's `permission`; only someone allowed hears about the configuration."""
    level = await gh.permission(asked.sender)
    # /status only reads (it never reconciles): anyone who can read the repository may ask.
    reads = what == "/status"
    least = "read" if reads else "write"
    if not allows(level, "read"):
        await refuse(gh, asked, needs_permission(what, asked.sender, least, level))
        return None
    config = await _config(settings, gh, branch)
    if isinstance(config, str):
        if allows(level, "write"):
            await refuse(gh, asked, messages.deploy_config_broken(config, branch))
        else:
            await refuse(gh, asked, needs_permission(what, asked.sender, least, level))
        return None
    with places.locks(settings.redis_url, settings.deploy_lease_s) as locks:
        for each in config.environments.values():  # for the status page
            await asyncio.to_thread(locks.sticky.remember_windows, each.name, each.freeze)
    name = choose(config)
    env = config.environments.get(name or config.default.name)
    needed = "read" if reads else env.permission if env else "write"
    if not allows(level, needed):
        await refuse(gh, asked, needs_permission(what, asked.sender, needed, level))
        return None
    if env is None:
        known = list(config.environments)
        await refuse(gh, asked, messages.unknown_environment(str(name), known))
        return None
    return Allowed(env, level, config)


def lock_words(config: DeployConfig, words: str) -> tuple[str | None, str]:
    """/lock's environment and reason: the first word names an environment when one has that
    name (otherwise the whole is the reason, for the default environment)."""
    first, _, rest = words.partition(" ")
    if first.lower() in config.environments:
        return first.lower(), rest.strip()
    return None, words


async def answer(settings: Settings, asked: RunCommand, send: Send) -> None:
    """One of DEPLOY_COMMANDS, asked in a comment."""
    async with (
        repo_github(settings, asked.installation_id, asked.repo) as gh,
        Redis.from_url(settings.redis_url) as redis,
    ):
        await _command(settings, gh, redis, asked, send)


async def _command(
    settings: Settings, gh: RepoGitHub, redis: Redis, asked: RunCommand, send: Send
) -> None:
    who = Asked(asked.sender, asked.pr_number, asked.comment_id)
    pull = await gh.pull(asked.pr_number)
    if asked.command == "rollback" and await _resume(settings, gh, redis, who, asked):
        return
    what = f"/{asked.command}"

    def choose(config: DeployConfig) -> str | None:
        if asked.command == "lock":
            return lock_words(config, asked.reason or "")[0]
        return asked.env

    allowed = await _environment(settings, gh, who, what, choose, pull.default_branch)
    if allowed is None:
        return
    env = allowed.env
    await gh.react(asked.comment_id, "eyes")
    if asked.command == "deploy":
        await _deploy(settings, gh, redis, asked, allowed, pull, send)
    elif asked.command == "rollback":
        target = _target(settings, gh.repo, env, asked.sha)
        if isinstance(target, str):
            await refuse(gh, who, target)
            return
        order = Order("rollback", env, target, asked.sender, asked.pr_number, asked.delivery_id)
        await _rollback(settings, gh, redis, who, order, asked)
    else:
        with places.locks(settings.redis_url, settings.deploy_lease_s) as locks:
            ok, reply = await asyncio.to_thread(_controls, settings, gh.repo, locks, asked, allowed)
        if ok:
            await gh.comment(asked.pr_number, reply)
        else:
            await refuse(gh, who, reply)


def _controls(
    settings: Settings, repo: str, locks: Locks, asked: RunCommand, allowed: Allowed
) -> tuple[bool, str]:
    """/status, /cancel, /lock and /unlock: what each changes (in Redis), and its reply (False:
    a refusal)."""
    env = allowed.env
    if asked.command == "status":
        where = drive.place_of(settings, env, repo)
        found = places.status(where, locks, "deploybot (/status)", False)
        return True, messages.status_reply(found)
    if asked.command == "cancel":
        return _cancel(locks, env.name, asked.sender, asked.pr_number)
    if asked.command == "unlock":
        return True, messages.unlocked(env.name, locks.sticky.release(env.name), asked.sender)
    reason = lock_words(allowed.config, asked.reason or "")[1]
    if not reason:
        return False, messages.lock_needs_reason(env.name)
    before = locks.sticky.held(env.name)
    hold = locks.sticky.hold(env.name, hold_now(asked.sender, reason, asked.pr_number))
    if hold.who != asked.sender:
        return False, messages.lock_held_by_other(env.name, hold)
    return True, messages.locked(env.name, hold, again=before is not None)


def _cancel(locks: Locks, env: str, sender: str, pr: int) -> tuple[bool, str]:
    """The sender's own queued deploy withdrawn: the one from this pull request if there is
    one, else their last queued."""
    waiting = locks.queue(env)
    mine = [(n, t, h) for n, (t, h) in enumerate(waiting, 1) if h.who == sender]
    # This pull request's own, if it has one queued; only then another of the sender's (a
    # deploy that takes its turn meanwhile is never swapped for another one).
    here = [found for found in mine if found[2].pr == pr]
    for position, ticket, holder in reversed(here or mine):
        if locks.cancel(env, ticket):
            return True, messages.cancelled(env, holder, position)
    return False, messages.nothing_to_cancel(env, sender)


async def _deploy(
    settings: Settings,
    gh: RepoGitHub,
    redis: Redis,
    asked: RunCommand,
    allowed: Allowed,
    pull: PullInfo,
    send: Send,
) -> None:
    """A /deploy checked (merged, on the default branch, its flags allowed, the environment
    not held or frozen) and sent to a deploy task; a queued one told its place at once."""
    who, env = Asked(asked.sender, asked.pr_number, asked.comment_id), allowed.env
    refusal = _not_deployable(asked, allowed, pull)
    if refusal is not None or pull.merge_commit_sha is None:
        await refuse(gh, who, refusal or messages.not_merged(asked.pr_number, pull.state))
        return
    sha = pull.merge_commit_sha
    message = RunDeploy(
        installation_id=asked.installation_id,
        repo=asked.repo,
        pr_number=asked.pr_number,
        comment_id=asked.comment_id,
        sender=asked.sender,
        delivery_id=asked.delivery_id,
        env=env.name,
        sha=sha,
        default_branch=pull.default_branch,
        dry_run=asked.dry_run,
        accept_inconclusive=asked.accept_inconclusive,
        break_glass=asked.break_glass,
    )
    # The first of its chain of messages (each that asks again keeps its task id), listed as
    # waiting (recoverable) before it joins the queue, is told its place and is sent: a worker
    # that died in between would otherwise lose it, and its place, for the broker's visibility
    # timeout.
    chain = uuid.uuid4().hex
    key = f"deploy:{asked.delivery_id}"
    if asked.dry_run:
        await run_state.waiting(redis, key, message, chain)
    else:
        with places.locks(settings.redis_url, settings.deploy_lease_s) as locks:
            glass = asked.break_glass is not None
            verdict = await asyncio.to_thread(
                places.verdict, locks, env, "deploy", asked.sender, glass
            )
            if verdict.refused is not None:
                said = messages.control_refused(env, verdict, datetime.now(UTC))
                await refuse(gh, who, said)
                return
            await run_state.waiting(redis, key, message, chain)
            if env.lock == "queue":
                holder = holder_now(asked.sender, "deploy", sha, pr=asked.pr_number)
                await _queued(gh, redis, locks, env.name, holder, asked)
    send(message, task_id=chain)


def _not_deployable(asked: RunCommand, allowed: Allowed, pull: PullInfo) -> str | None:
    """Why this /deploy is refused before anything is asked of Redis (None: it is not): the
    pull request not merged, or not into the default branch; an override flag the sender may
    not pass."""
    if not pull.merged or pull.merge_commit_sha is None:
        return messages.not_merged(asked.pr_number, pull.state)
    if pull.base_ref != pull.default_branch:
        return messages.not_on_default(asked.pr_number, pull.base_ref, pull.default_branch)
    env = allowed.env
    for flag, given in (
        ("--accept-inconclusive", asked.accept_inconclusive),
        ("--break-glass", asked.break_glass),
    ):
        if given is not None and not allows(allowed.level, env.override_permission):
            level, needed = allowed.level, env.override_permission
            return messages.override_refused(env.name, flag, asked.sender, needed, level)
    return None


async def _queued(
    gh: RepoGitHub, redis: Redis, locks: Locks, env: str, holder: Holder, asked: RunCommand
) -> None:
    """The deploy in the environment's queue now, in the order asked, and told its place and
    what it waits behind at once when it must wait (its task, which may wait for a worker slot,
    says nothing more)."""
    ticket = asked.delivery_id
    # In the order the receiver got the comments (two command tasks may run in either order).
    when = heads.parse(asked.received_at).timestamp()
    place = await asyncio.to_thread(locks.join, env, holder, ticket, when)
    if place == 0:
        return
    current = await asyncio.to_thread(locks.holder, env)
    ahead = await asyncio.to_thread(locks.ahead, env, ticket)
    await gh.comment(asked.pr_number, messages.deploy_queued(env, current, ahead))
    await mark_told(redis, f"queued:{ticket}")


def _target(settings: Settings, repo: str, env: Environment, prefix: str | None) -> str | None:
    """The staged release `to <sha>` names, None for the previous one, or why it names none."""
    if prefix is None:
        return None
    index = drive.place_of(settings, env, repo).staging.index(repo)
    return runs.find_release(index, prefix) or messages.no_release_matches(prefix, env.name)


async def _rollback(
    settings: Settings, gh: RepoGitHub, redis: Redis, asked: Asked, order: Order, message: Message
) -> None:
    """The rollback, listed as active while it runs: a worker that dies mid-way leaves it for
    `recover`, whose copy settles what the ledger says."""
    async with run_state.lease(redis, f"deploy:{order.delivery_id}", message):
        facts = await drive.drive(settings, gh, redis, order)
    await _ended(gh, asked, facts)


async def _resume(
    settings: Settings,
    gh: RepoGitHub,
    redis: Redis,
    asked: Asked,
    message: RunCommand | CheckRunAction,
) -> bool:
    """A copy of a rollback task whose first copy began (its worker died): carried on as it was
    accepted then, not judged again against what it changed itself. False when none began."""
    record = await Records(redis, gh.repo).get(message.delivery_id)
    if record is None or record.pr is None:
        return False
    config = await _config(settings, gh, (await gh.pull(record.pr)).default_branch)
    env = None if isinstance(config, str) else config.environments.get(record.env)
    if env is None:
        log.error("%s: cannot resume rollback %s: %s", gh.repo, record.run_id, config)
        return False
    order = Order("rollback", env, record.commit, record.by, record.pr, record.delivery_id)
    await _rollback(settings, gh, redis, asked, order, message)
    return True


async def _ended(gh: RepoGitHub, asked: Asked, facts: Facts) -> None:
    """🚀 when the release asked for serves, 😕 (and the reason, where the summary does not
    carry it) otherwise."""
    if facts.ok and facts.live == facts.commit:
        if asked.comment_id is not None:
            await gh.react(asked.comment_id, "rocket")
        return
    if asked.comment_id is not None:
        await gh.react(asked.comment_id, "confused")
    if not facts.commit:  # nothing was started, so no summary says why
        await drive.say(gh, asked.pr, f"@{asked.sender} {facts.detail}; nothing was done.")


async def run_deploy(settings: Settings, message: RunDeploy, chain: str) -> None:
    """The deploy the command task accepted, listed as active while it runs (see _rollback) or
    waits; `chain` is its chain of messages (the task id each message that asks again keeps)."""
    key = f"deploy:{message.delivery_id}"
    async with Redis.from_url(settings.redis_url) as redis:
        try:
            await drive.still_queued(settings, redis, message.repo, message.delivery_id)
        except WaitingTurn:
            if not await run_state.waiting(redis, key, message, chain):
                log.info("deploy %s: another copy of it waits its turn", message.delivery_id)
                return
            raise
    async with repo_github(settings, message.installation_id, message.repo) as gh:
        redis = Redis.from_url(settings.redis_url)
        try:
            asked = Asked(message.sender, message.pr_number, message.comment_id)
            # Everything under the run's lease: a refusal ends the run (it is not sent again).
            async with run_state.lease(redis, key, message, chain):
                config = await _config(settings, gh, message.default_branch, retry_fetch=True)
                env = None if isinstance(config, str) else config.environments.get(message.env)
                if env is None:
                    problem = config if isinstance(config, str) else f"{message.env} is gone"
                    with places.locks(settings.redis_url, settings.deploy_lease_s) as locks:
                        # Its place in the queue is given up, not held until it lapses.
                        await asyncio.to_thread(locks.leave, message.env, message.delivery_id)
                    said = messages.deploy_config_broken(problem, message.default_branch)
                    await refuse(gh, asked, said)
                    return
                order = Order(
                    "deploy",
                    env,
                    message.sha,
                    message.sender,
                    message.pr_number,
                    message.delivery_id,
                    accept_inconclusive=message.accept_inconclusive,
                    break_glass=message.break_glass,
                    branch=message.default_branch,
                )
                if message.dry_run:
                    await dry_run(settings, gh, redis, order)
                    return
                facts = await drive.drive(settings, gh, redis, order)
            await _ended(gh, asked, facts)
        finally:
            await redis.aclose()


async def button(settings: Settings, message: CheckRunAction) -> None:
    """The Roll back button of a deploybot/deploy check run, pressed: a rollback exactly as
    /rollback would do it, after the same checks, said on the pull request."""
    async with repo_github(settings, message.installation_id, message.repo) as gh:
        redis = Redis.from_url(settings.redis_url)
        try:
            record = await Records(redis, gh.repo).of_check_run(message.check_run_id)
            if record is None:
                log.warning(
                    "%s: Roll back pressed on check run %s, which no deploy of this bot made",
                    gh.repo,
                    message.check_run_id,
                )
                return
            asked = Asked(message.sender, record.pr, None)
            if record.pr is None or await _resume(settings, gh, redis, asked, message):
                return
            branch = (await gh.pull(record.pr)).default_branch
            allowed = await _environment(
                settings, gh, asked, "Roll back", lambda _: record.env, branch
            )
            if allowed is None:
                return
            env = allowed.env
            where = drive.place_of(settings, env, gh.repo)
            live = (await asyncio.to_thread(where.state)).live
            if live is None or live.commit != record.commit:
                await refuse(
                    gh,
                    asked,
                    messages.button_stale(record.commit, env.name, live.commit if live else None),
                )
                return
            await drive.say(
                gh, record.pr, messages.button_pressed(message.sender, record.commit, env.name)
            )
            order = Order("rollback", env, None, message.sender, record.pr, message.delivery_id)
            await _rollback(settings, gh, redis, asked, order, message)
        finally:
            await redis.aclose()
