"""One deploy per environment, on a real Redis: the lock is a lease that outlives its holder by at
most one lease, a second deploy hears at once who holds it, and a rollback takes the lock over
from a stuck holder after one lease at most."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable

import pytest
import redis

from core.errors import LockUnavailable
from deploy.lock import Holder, Lease, LockBusy, Locks, Withdrawn, holder_now
from testkit.loopback import free_port
from tests.deploys.conftest import LEASE_S, Deployment, Staged

LEASE = 1.0


def holder_of(locks: Locks, environment: str) -> str | None:
    found = locks.holder(environment)
    return found.who if found else None


def test_a_second_deploy_hears_at_once_who_holds_the_lock_and_is_refused_when_configured(
    redis_client: redis.Redis,
) -> None:
    locks = Locks(redis_client, LEASE)
    first = holder_now("mona (cli)", "deploy", "a" * 40)
    with locks.acquire("prod-a", first, "refuse"):
        told: list[Holder] = []
        started = time.monotonic()
        with pytest.raises(LockBusy, match="deploy of aaaaaaaaaaaa by mona"):
            locks.acquire("prod-a", holder_now("hubot", "deploy", "b" * 40), "refuse", told.append)
        assert time.monotonic() - started < LEASE  # answered at once, not after a wait
        assert told == [first]
    assert locks.holder("prod-a") is None  # released with the block


def test_a_queued_deploy_starts_when_the_holder_finishes(redis_client: redis.Redis) -> None:
    locks = Locks(redis_client, LEASE)
    held = locks.acquire("prod-b", holder_now("mona", "deploy", "a" * 40), "refuse")
    threading.Timer(0.5, held.release).start()
    told: list[Holder] = []
    with locks.acquire("prod-b", holder_now("hubot", "deploy", "b" * 40), "queue", told.append):
        assert holder_of(locks, "prod-b") == "hubot"
    assert [t.who for t in told] == ["mona"]


def test_queued_deploys_take_the_lock_in_the_order_asked(redis_client: redis.Redis) -> None:
    locks = Locks(redis_client, LEASE)
    held = locks.acquire("prod-q", holder_now("mona", "deploy", "a" * 40), "refuse")
    asked = [holder_now(f"asker{n}", "deploy", f"{n}" * 40) for n in range(3)]
    # Asked in this order, each polling as a queued worker task does; none may jump ahead.
    places = [locks.take_turn("prod-q", who, f"ticket{n}") for n, who in enumerate(asked)]
    assert places == [1, 2, 3]
    assert [h.who for _, h in locks.queue("prod-q")] == ["asker0", "asker1", "asker2"]
    held.release()
    assert locks.take_turn("prod-q", asked[2], "ticket2") == 3  # the lock is free: not its turn
    assert locks.take_turn("prod-q", asked[1], "ticket1") == 2
    first = locks.take_turn("prod-q", asked[0], "ticket0")
    assert isinstance(first, Lease)
    assert holder_of(locks, "prod-q") == "asker0"
    first.release()
    second = locks.take_turn("prod-q", asked[1], "ticket1")
    assert isinstance(second, Lease)
    second.release()


def test_a_waiter_that_died_leaves_the_queue(
    redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("deploy.lock.TICKET_S", 0.3)
    locks = Locks(redis_client, LEASE)
    held = locks.acquire("prod-r", holder_now("mona", "deploy", "a" * 40), "refuse")
    assert locks.take_turn("prod-r", holder_now("dies", "deploy", "b" * 40), "gone") == 1
    assert locks.take_turn("prod-r", holder_now("lives", "deploy", "c" * 40), "here") == 2
    held.release()
    time.sleep(0.5)  # the first waiter stopped asking: its ticket lapsed
    taken = locks.take_turn("prod-r", holder_now("lives", "deploy", "c" * 40), "here")
    assert isinstance(taken, Lease)
    taken.release()
    assert locks.queue("prod-r") == []


def test_a_dead_holders_lock_lapses_within_one_lease(redis_url: str) -> None:
    # A real process takes the lock and is SIGKILLed while it holds it.
    script = textwrap.dedent(
        f"""
        import redis, time
        from deploy.lock import Locks, holder_now
        locks = Locks(redis.Redis.from_url({redis_url!r}), {LEASE})
        locks.acquire("prod-c", holder_now("doomed", "deploy", "a" * 40), "refuse")
        print("held", flush=True)
        time.sleep(60)
        """
    )
    holder = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "held"
    locks = Locks(redis.Redis.from_url(redis_url), LEASE)
    time.sleep(LEASE)  # renewed while it lives
    assert locks.holder("prod-c") is not None
    holder.kill()
    holder.communicate()
    killed = time.monotonic()
    with locks.acquire("prod-c", holder_now("next", "deploy", "b" * 40), "queue"):
        assert time.monotonic() - killed <= LEASE + 0.5


def test_a_rollback_takes_the_lock_over_from_a_stuck_holder_after_one_lease(
    redis_client: redis.Redis,
) -> None:
    locks = Locks(redis_client, LEASE)
    stuck = locks.acquire("prod-d", holder_now("stuck", "deploy", "a" * 40), "refuse")
    started = time.monotonic()
    with locks.acquire("prod-d", holder_now("oncall", "rollback", ""), "preempt") as rollback:
        waited = time.monotonic() - started
        assert LEASE - 0.1 <= waited <= LEASE + 0.5
        assert rollback.preempted is not None
        assert rollback.preempted.who == "stuck"
        assert not stuck.held()  # the stuck holder finds out before its next step
        stuck.release()  # and its release does not free the rollback's lock
        assert holder_of(locks, "prod-d") == "oncall"
    assert locks.holder("prod-d") is None


def test_no_redis_means_no_deploy_and_says_where_to_look() -> None:
    locks = Locks(redis.Redis(port=free_port(), socket_connect_timeout=1), LEASE)
    with pytest.raises(LockUnavailable, match="DEPLOYBOT_REDIS_URL"):
        locks.acquire("prod-e", holder_now("mona", "deploy", "a" * 40), "queue")


@pytest.mark.slow
def test_a_rollback_during_a_stuck_bake_takes_over_and_the_deploy_stops_acting(
    process_releases: Staged, deployment: Callable[..., Deployment], redis_url: str
) -> None:
    first, second = process_releases.commits
    env = deployment(process_releases, "process")
    driving = env.baking(first, second, bake_s=60)

    started = time.monotonic()
    back = env.cli("rollback")
    assert back.returncode == 0, back.stdout + back.stderr
    assert time.monotonic() - started < LEASE_S + 10
    assert "took the lock over from deploy of" in back.stdout
    assert env.front_serves() == first

    output, _ = driving.communicate(timeout=60)
    assert driving.returncode == 1
    assert "was taken over" in output
    found = env.status()
    assert found["lock"] is None
    assert found["live"]["commit"] == first
    assert not found["in_progress"]
    # Recorded as a rollback: the release left is bad (a second rollback never goes forward
    # to it), and the deploy counts as a failure that was restored.
    assert found["bad"] == [second]
    again = env.cli("rollback")
    assert again.returncode != 0
    assert "no earlier release" in again.stderr
    assert env.front_serves() == first
    window = env.dora_week()
    assert (window.deploys, window.failures) == (2, 1)
    assert window.time_to_restore_s is not None


@pytest.mark.slow
def test_the_cli_names_the_holder_then_queues_or_refuses_as_configured(
    process_releases: Staged, deployment: Callable[..., Deployment], redis_url: str
) -> None:
    first, _ = process_releases.commits
    env = deployment(process_releases, "process")
    locks = Locks(redis.Redis.from_url(redis_url), LEASE_S)
    held = locks.acquire(env.name, holder_now("mona (cli)", "deploy", "c" * 40), "refuse")

    env.write_config(lock="refuse")
    refused = env.cli("deploy", first)
    assert refused.returncode == 4
    assert "locked: deploy of cccccccccccc by mona (cli)" in refused.stdout
    assert "refused" in refused.stderr
    assert env.front_serves() is None

    env.write_config(lock="queue")
    queued = env.popen("deploy", first)
    assert queued.stdout is not None
    assert "locked: deploy of cccccccccccc by mona (cli)" in queued.stdout.readline()
    held.release()
    output, _ = queued.communicate(timeout=120)
    assert queued.returncode == 0, output
    assert env.front_serves() == first


@pytest.mark.slow
def test_a_rollback_to_a_release_that_does_not_exist_stops_no_deploy(
    process_releases: Staged, deployment: Callable[..., Deployment]
) -> None:
    first, second = process_releases.commits
    env = deployment(process_releases, "process")
    driving = env.baking(first, second, bake_s=5)

    typo = env.cli("rollback", "--to", "f" * 40)
    assert typo.returncode == 1
    assert f"{'f' * 12} has no staged release" in typo.stderr
    assert "nothing was done" in typo.stderr
    assert "took the lock over" not in typo.stdout

    output, _ = driving.communicate(timeout=60)
    assert driving.returncode == 0, output  # the bake went on to the end
    assert env.front_serves() == second


def test_a_holder_that_checks_gives_the_lock_to_a_rollback_at_once(
    redis_client: redis.Redis,
) -> None:
    locks = Locks(redis_client, 5.0)  # a long lease: the rollback must not wait for it
    baking = locks.acquire("prod-s", holder_now("baking", "deploy", "a" * 40), "refuse")
    stop = threading.Event()

    def bake() -> None:  # as the bake does: a look every so often
        while not stop.wait(0.1):
            if not baking.held():
                return

    checker = threading.Thread(target=bake)
    checker.start()
    started = time.monotonic()
    with locks.acquire("prod-s", holder_now("oncall", "rollback", ""), "preempt") as rollback:
        assert time.monotonic() - started < 2.5  # well inside its 5 s lease
        assert rollback.preempted is not None
        assert rollback.preempted.who == "baking"
        assert holder_of(locks, "prod-s") == "oncall"
        checker.join(timeout=5)
        assert not checker.is_alive()  # the deploy saw it was no longer its lock
        assert not baking.held()
    stop.set()
    baking.release()  # its release does not touch the lock the rollback had
    assert locks.holder("prod-s") is None
    assert not locks.wanted("prod-s")


def test_a_rollback_never_preempts_another_rollback(redis_client: redis.Redis) -> None:
    locks = Locks(redis_client, LEASE)
    cold = locks.acquire("prod-t", holder_now("first", "rollback", "a" * 40), "preempt")
    threading.Timer(LEASE * 2, cold.release).start()  # a cold rollback outlasting a lease
    told: list[Holder] = []
    started = time.monotonic()
    with locks.acquire("prod-t", holder_now("second", "rollback", ""), "preempt", told.append):
        assert time.monotonic() - started >= LEASE * 2 - 0.1  # it waited for the first to end
        assert not cold.valid()  # it released the lock itself: nothing took it
    assert [t.who for t in told] == ["first"]


def test_a_queue_lists_who_waits_as_they_asked_and_a_withdrawal_is_for_good(
    redis_client: redis.Redis,
) -> None:
    locks = Locks(redis_client, LEASE_S)
    held = locks.acquire("prod-w", holder_now("mona", "deploy", "a" * 40), "refuse")
    asked = [holder_now(who, "deploy", "b" * 40, pr=n) for n, who in enumerate(("ann", "bo", "cy"))]
    # Joined in the order the receiver got the comments, whatever order the tasks ran in.
    assert locks.join("prod-w", asked[2], "t2", asked=30.0) == 1
    assert locks.join("prod-w", asked[0], "t0", asked=10.0) == 1
    assert locks.join("prod-w", asked[1], "t1", asked=20.0) == 2
    # Asking again (a waiting task, a fresh holder) keeps the place and what was first said.
    later = holder_now("ann", "deploy", "b" * 40, pr=0, link="https://example/runs/1")
    assert locks.take_turn("prod-w", later, "t0") == 1
    assert [(t, h.who) for t, h in locks.queue("prod-w")] == [
        ("t0", "ann"),
        ("t1", "bo"),
        ("t2", "cy"),
    ]
    assert locks.queue("prod-w")[0][1] == asked[0]
    assert [h.who for h in locks.ahead("prod-w", "t2")] == ["ann", "bo"]

    assert locks.cancel("prod-w", "t1")
    assert not locks.cancel("prod-w", "t1")  # withdrawn already
    assert [t for t, _ in locks.queue("prod-w")] == ["t0", "t2"]
    # Its waiter, however late it asks, never joins again; it learns so and stops waiting.
    with pytest.raises(Withdrawn):
        locks.take_turn("prod-w", asked[1], "t1")
    assert locks.turn_came("prod-w", asked[1], "t1")
    assert [t for t, _ in locks.queue("prod-w")] == ["t0", "t2"]
    held.release()
    first = locks.take_turn("prod-w", asked[0], "t0")
    assert isinstance(first, Lease)
    # A ticket that took its turn is not withdrawn: /cancel says it is not waiting.
    assert not locks.cancel("prod-w", "t0")
    first.release()
    assert locks.take_turn("prod-w", asked[2], "t2") is not None


def test_the_queue_is_redis_s_alone_a_new_client_finds_it_as_it_was(redis_url: str) -> None:
    """A worker that restarts (a new process, a new client) finds every place kept."""
    before = Locks(redis.Redis.from_url(redis_url), LEASE_S)
    held = before.acquire("prod-x", holder_now("mona", "deploy", "a" * 40), "refuse")
    for n in range(3):
        before.join("prod-x", holder_now(f"w{n}", "deploy", "b" * 40), f"t{n}")
    before.client.close()
    after = Locks(redis.Redis.from_url(redis_url), LEASE_S)
    assert [h.who for _, h in after.queue("prod-x")] == ["w0", "w1", "w2"]
    assert after.take_turn("prod-x", holder_now("w1", "deploy", "b" * 40), "t1") == 2
    held.release()
    after.client.close()
