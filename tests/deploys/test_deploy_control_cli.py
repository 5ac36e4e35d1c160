"""Deploy control from the command line: `deploybot lock`/`unlock`, a freeze window and
`--break-glass`, `deploybot deploy --dry-run`; the same rules as the pull request's commands,
on the same Redis, the same ledger and HAProxy."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import redis

from deploy.lock import Locks, holder_now
from deploy.sticky import hold_now
from deploybot.deploys import who
from tests.deploys.conftest import LEASE_S, Deployment, Staged
from tests.deploys.test_deploy_control import ALWAYS_FROZEN


@pytest.mark.slow
def test_a_sticky_lock_from_the_cli_holds_until_unlocked_and_a_rollback_passes_it(
    process_releases: Staged, deployment: Callable[..., Deployment], redis_url: str
) -> None:
    first, second = process_releases.commits
    env = deployment(process_releases, "process")
    env.deploy(first)
    locks = Locks(redis.Redis.from_url(redis_url), LEASE_S)

    held = env.cli("lock", "--reason", "load test until 16:00")
    assert held.returncode == 0, held.stderr
    assert f"{env.name} is locked by {who()} since" in held.stdout
    # Its holder deploys; the lock stays after the success.
    env.deploy(second)
    assert env.status()["sticky"]["reason"] == "load test until 16:00"
    # Another holder refuses this one (the CLI's user is someone else to it).
    locks.sticky.release(env.name)
    locks.sticky.hold(env.name, hold_now("alice", "db migration", pr=12))
    refused = env.cli("deploy", first)
    assert refused.returncode == 4
    assert f"refused: {env.name} is locked by alice on #12 since" in refused.stderr
    assert "`/unlock" in refused.stderr
    assert env.front_serves() == second
    taken = env.cli("lock", "--reason", "mine")
    assert taken.returncode == 4
    assert "already locked by alice" in taken.stderr
    bad = env.cli("lock", "--reason", "ping @oncall")
    assert bad.returncode == 1
    assert "deploybot lock: --reason is needed. A reason is words of" in bad.stderr
    # A rollback goes through it.
    back = env.cli("rollback")
    assert back.returncode == 0, back.stderr
    assert env.front_serves() == first
    gone = env.cli("unlock")
    assert gone.returncode == 0
    assert gone.stdout.startswith(f"{env.name} is unlocked (it was locked by alice on #12 since ")
    assert env.status()["sticky"] is None
    assert env.cli("unlock").stdout.strip() == f"{env.name} was not locked: nothing was changed"


@pytest.mark.slow
def test_a_freeze_refuses_the_cli_until_it_breaks_the_glass_on_record(
    process_releases: Staged, deployment: Callable[..., Deployment]
) -> None:
    first, second = process_releases.commits
    env = deployment(process_releases, "process")
    env.deploy(first)
    env.write_config(more=ALWAYS_FROZEN)

    frozen = env.cli("deploy", second)
    assert frozen.returncode == 5
    assert "is in a freeze window: release freeze (from " in frozen.stderr
    assert "--break-glass REASON" in frozen.stderr
    assert env.front_serves() == first
    dry = env.cli("deploy", second, "--dry-run")
    assert dry.returncode == 5
    assert f"now would be refused: {env.name} is frozen: release freeze" in dry.stdout

    broke = env.cli("deploy", second, "--break-glass", "hotfix")
    assert broke.returncode == 0, broke.stdout + broke.stderr
    assert "breaking the glass of the freeze 'release freeze'" in broke.stdout
    assert env.front_serves() == second
    finish = [e for e in env.entries() if e["step"] == "finish"][-1]
    assert finish["extra"]["break_glass"]["by"] == who()
    assert finish["extra"]["break_glass"]["reason"] == "hotfix"
    # A rollback is never frozen.
    assert env.cli("rollback").returncode == 0
    assert env.front_serves() == first


@pytest.mark.slow
def test_a_dry_run_from_the_cli_says_what_a_deploy_would_do_and_does_nothing(
    process_releases: Staged, deployment: Callable[..., Deployment], redis_url: str
) -> None:
    first, second = process_releases.commits
    env = deployment(process_releases, "process")
    env.deploy(first)
    entries = len(env.entries())

    dry = env.cli("deploy", second, "--dry-run")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert f"A deploy of {second[:12]} to {env.name} now would go ahead at once." in dry.stdout
    assert f"flip the front 127.0.0.1:{env.front} from blue (`{first[:12]}`) to green" in dry.stdout
    locks = Locks(redis.Redis.from_url(redis_url), LEASE_S)
    with locks.acquire(env.name, holder_now("mona", "deploy", "c" * 40), "refuse"):
        waits = env.cli("deploy", second, "--dry-run")
        assert "would wait its turn: number 1 in the queue" in waits.stdout
        assert locks.queue(env.name) == []  # a dry run never joins the queue
    assert len(env.entries()) == entries
    assert env.front_serves() == first
    assert json.loads(env.cli("status", "--json").stdout)[0]["live"]["commit"] == first
