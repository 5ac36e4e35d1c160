"""A failover, told on GitHub: `deploybot proxy`'s watcher moved an environment's traffic off its
dead live colour onto the warm spare (deploy/watch.py); the on-call issue of the repository the
environment is deployed from hears what is live now and what to do. The ledger, the status page
and `/metrics` already know."""

from __future__ import annotations

import logging

from redis.asyncio import Redis

from core.contract import FailedOver
from core.settings import Settings
from deploy.ledger import FINISH, Ledger
from workers.deploys import oncall
from workers.deploys.records import home_of, mark_told, told
from workers.github import repo_github

log = logging.getLogger(__name__)


async def tell(settings: Settings, redis: Redis, message: FailedOver) -> None:
    entries = Ledger(settings.data_dir / "ledger", message.env).entries()
    finish = next((e for e in entries if e.deploy == message.run_id and e.step == FINISH), None)
    if finish is None:
        log.warning("%s: no failover %s in the ledger to tell", message.env, message.run_id)
        return
    home = await home_of(redis, message.env)
    if home is None or settings.oncall_issue is None:
        why = (
            "DEPLOYBOT_ONCALL_ISSUE is not set"
            if home is not None
            else "no repository has deployed it from GitHub"
        )
        log.warning("%s failed over (%s); not told on GitHub: %s", message.env, finish.detail, why)
        return
    key = f"failover:{message.run_id}"
    if await told(redis, key):
        return
    async with repo_github(settings, home.installation_id, home.repo) as gh:
        await gh.comment(settings.oncall_issue, oncall.failover_notice(message.env, finish))
    await mark_told(redis, key)
