"""/deploy, /rollback and /status, and the deploy check run's Roll back button: each checked here
(data/deploy.yaml from the default branch, the environment, the sender's permission asked of
GitHub now, a merged pull request, a release still live) and then run through
workers/deploys/drive.py. Every refusal is answered in words with 😕 and changes nothing."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from redis.asyncio import Redis

from core.contract import CheckRunAction, Message, RunCommand, RunDeploy
from core.errors import CheckoutError, DeploybotError, WaitingTurn
from core.settings import Settings
from deploy import places, runs
from deploy.config import DEFAULT_PATH, DeployConfig, Environment, load_config
from workers import run_state
from workers.checkout import Workspace, clone_url, workspace_root
from workers.deploys import drive, messages
from workers.deploys.drive import Order
from workers.deploys.oncall import Facts
from workers.deploys.records import Records
from workers.github import RepoGitHub, allows, repo_github
from workers.messages import needs_permission
from workers.worker import Send

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Asked:
    """Who asked for what, where to answer."""

    sender: str
    pr: int | None
    comment_id: int | None


async def _config(settings: Settings, gh: RepoGitHub, branch: str) -> DeployConfig | str:
    """The deploy configuration of the default branch, or why it cannot be used."""
    workspace = Workspace(workspace_root(settings), clone_url(settings, gh.repo))
    try:
        text = await asyncio.to_thread(
            workspace.read_file_at, branch, DEFAULT_PATH, await gh.token()
        )
        return load_config(text, DEFAULT_PATH)
    except FileNotFoundError:
        return f"{DEFAULT_PATH}:1: the file does not exist on {branch}"
    except CheckoutError as exc:
        return f"{DEFAULT_PATH}:1: cannot fetch {branch}: {exc}"
    except DeploybotError as exc:
        return str(exc)


async def refuse(gh: RepoGitHub, asked: Asked, text: str) -> None:
    if asked.comment_id is not None:
        await gh.react(asked.comment_id, "confused")
    await drive.say(gh, asked.pr, text)


async def _environment(
    settings: Settings, gh: RepoGitHub, asked: Asked, what: str, name: str | None, branch: str
) -> Environment | None:
    """The environment `name` names (None after answering why not). The sender's permission is
    asked of GitHub first (someone with none costs no fetch), then checked against the
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
    env = config.environments.get(name or config.default.name)
    needed = "read" if reads else env.permission if env else "write"
    if not allows(level, needed):
        await refuse(gh, asked, needs_permission(what, asked.sender, needed, level))
        return None
    if env is None:
        known = list(config.environments)
        await refuse(gh, asked, messages.unknown_environment(str(name), known))
    return env


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
    env = await _environment(settings, gh, who, what, asked.env, pull.default_branch)
    if env is None:
        return
    await gh.react(asked.comment_id, "eyes")
    if asked.command == "status":
        where = drive.place_of(settings, env, gh.repo)
        with places.locks(settings.redis_url, settings.deploy_lease_s) as lock:
            asker = "deploybot (/status)"
            found = await asyncio.to_thread(places.status, where, lock, asker, False)
        await gh.comment(asked.pr_number, messages.status_reply(found))
    elif asked.command == "deploy":
        if not pull.merged or pull.merge_commit_sha is None:
            await refuse(gh, who, messages.not_merged(asked.pr_number, pull.state))
            return
        if pull.base_ref != pull.default_branch:
            refusal = messages.not_on_default(asked.pr_number, pull.base_ref, pull.default_branch)
            await refuse(gh, who, refusal)
            return
        send(
            RunDeploy(
                installation_id=asked.installation_id,
                repo=asked.repo,
                pr_number=asked.pr_number,
                comment_id=asked.comment_id,
                sender=asked.sender,
                delivery_id=asked.delivery_id,
                env=env.name,
                sha=pull.merge_commit_sha,
                default_branch=pull.default_branch,
            )
        )
    else:
        target = _target(settings, gh.repo, env, asked.sha)
        if isinstance(target, str):
            await refuse(gh, who, target)
            return
        order = Order("rollback", env, target, asked.sender, asked.pr_number, asked.delivery_id)
        await _rollback(settings, gh, redis, who, order, asked)


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


async def run_deploy(settings: Settings, message: RunDeploy) -> None:
    """The deploy the command task accepted, listed as active while it runs (see _rollback)."""
    async with Redis.from_url(settings.redis_url) as redis:
        try:
            await drive.still_queued(settings, redis, message.repo, message.delivery_id)
        except WaitingTurn:
            await run_state.waiting(redis, f"deploy:{message.delivery_id}", message)
            raise
    async with repo_github(settings, message.installation_id, message.repo) as gh:
        redis = Redis.from_url(settings.redis_url)
        try:
            asked = Asked(message.sender, message.pr_number, message.comment_id)
            config = await _config(settings, gh, message.default_branch)
            env = None if isinstance(config, str) else config.environments.get(message.env)
            if env is None:
                problem = config if isinstance(config, str) else f"{message.env} is gone"
                await refuse(
                    gh, asked, messages.deploy_config_broken(problem, message.default_branch)
                )
                return
            order = Order(
                "deploy", env, message.sha, message.sender, message.pr_number, message.delivery_id
            )
            async with run_state.lease(redis, f"deploy:{message.delivery_id}", message):
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
            env = await _environment(settings, gh, asked, "Roll back", record.env, branch)
            if env is None:
                return
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
