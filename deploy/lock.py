"""One deploy per environment: a Redis lease renewed while its holder lives, expiring when it dies.

Who holds it, since when, for which release and doing what is stored beside the lease (with the
same lifetime), so a second deploy is answered at once with those, then queued or refused as the
environment says. A rollback asks the holder to give the lock up (it does before its next step,
or at its bake's next check, within a second) and takes it over after one lease at most: a
holder that is alive but stuck cannot block it longer, and finds on its next renewal, before its
next step, that the lock is no longer its own.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal

import redis

from core import leases
from core.errors import DeploybotError, LockUnavailable
from deploy.sticky import StickyLocks, redis_call

PREFIX: Final = "deploybot:deploy-lock"
POLL_S: Final = 0.2
QUEUE_TIMEOUT_S: Final = 3600.0
# A queued waiter asks again every second or so (a worker's retry may wait for a free slot);
# a ticket not asked for this long is its waiter's death, and leaves the queue.
TICKET_S: Final = 300.0
# How long a withdrawn ticket is remembered (so its waiter, however late, never joins again).
WITHDRAWN_S: Final = 7 * 24 * 3600.0
Busy = Literal["queue", "refuse", "preempt"]


class LockBusy(DeploybotError):
    """Another deploy holds the environment and this one is not to wait."""

    def __init__(self, environment: str, holder: Holder) -> None:
        super().__init__(f"{environment} is locked: {holder.describe()}")
        self.holder = holder


@dataclass(frozen=True)
class Holder:
    who: str
    kind: str  # deploy | rollback | reconcile
    commit: str
    since: str
    pr: int | None = None  # the pull request it was asked on, when it came from GitHub
    link: str = ""  # where to watch it (its check run)

    def describe(self) -> str:
        what = f"{self.kind} of {self.commit[:12]}" if self.commit else self.kind
        where = f" from #{self.pr}" if self.pr is not None else ""
        watch = f" ({self.link})" if self.link else ""
        return f"{what}{where} by {self.who}, since {self.since}{watch}"


class Lease:
    """A held lock, renewed every third of its lifetime until released. `lost` is set when a
    renewal finds another holder (a rollback took over) or the lease lapsed unrenewed."""

    def __init__(self, locks: Locks, environment: str, token: str, preempted: Holder | None):
        self.environment = environment
        self.preempted = preempted
        self.lost = threading.Event()
        self.locks = locks
        self._token = token
        self._stop = threading.Event()
        self._renewer = threading.Thread(target=self._renew, daemon=True, name="deploy-lease")
        self._renewer.start()

    def _renew(self) -> None:
        interval = self.locks.lease_s / 3
        renewed = time.monotonic()
        while not self._stop.wait(interval):
            try:
                if not self.locks.renew(self.environment, self._token):
                    self.lost.set()
                    return
                renewed = time.monotonic()
            except LockUnavailable:
                if time.monotonic() - renewed > self.locks.lease_s:
                    self.lost.set()
                    return

    def held(self) -> bool:
        """Whether the lock is still this holder's, asked of Redis now (and renewed): what a
        holder checks before each step (and during its bake), so one whose lock was taken over
        acts no more. A rollback waiting to take it over is let in at once: the lock is given
        up here rather than after a lease."""
        if self.lost.is_set():
            return False
        try:
            if self.locks.wanted(self.environment):
                self.locks.release(self.environment, self._token)
                self.lost.set()
                return False
        except LockUnavailable:
            return True  # Redis is away: the renewer decides when the lease has lapsed
        return self.valid()

    def valid(self) -> bool:
        """Whether the lock is still this holder's, asked of Redis now (and renewed), without
        giving it up: the fencing check before every ledger write and switch command, so a
        holder whose lease was taken over or lapsed (paused past it, say) acts no more."""
        if self.lost.is_set():
            return False
        try:
            if self.locks.renew(self.environment, self._token):
                return True
        except LockUnavailable:
            return True  # Redis is away: the renewer decides when the lease has lapsed
        self.lost.set()
        return False

    def release(self) -> None:
        self._stop.set()
        self._renewer.join()
        if not self.lost.is_set():
            self.locks.release(self.environment, self._token)

    def __enter__(self) -> Lease:
        return self

    def __exit__(self, *_: object) -> None:
        self.release()


class Withdrawn(DeploybotError):
    """A queued deploy withdrawn from its queue (/cancel): it never takes its turn."""


class Locks:
    def __init__(self, client: redis.Redis, lease_s: float = 30.0) -> None:
        self.client = client
        self.lease_s = lease_s
        # The environments maintainers hold (/lock), on the same Redis.
        self.sticky = StickyLocks(client)

    def _keys(self, environment: str) -> list[str]:
        return [f"{PREFIX}:{environment}", f"{PREFIX}:{environment}:holder"]

    def _call(self, work: Callable[[], Any]) -> Any:
        return redis_call(work, "a deploy needs its lock")

    def holder(self, environment: str) -> Holder | None:
        raw = self._call(lambda: self.client.get(self._keys(environment)[1]))
        return _holder(raw) if raw else None

    def acquire(
        self,
        environment: str,
        holder: Holder,
        busy: Busy,
        told: Callable[[Holder], None] = lambda _: None,
        timeout_s: float = QUEUE_TIMEOUT_S,
    ) -> Lease:
        """The environment's lock. When another holds it, `told` hears who at once; then
        refuse raises LockBusy, queue waits its turn in the order asked (up to timeout_s),
        preempt asks a deploy to give the lock up and takes it over after one lease at most
        (another rollback's it waits for, in turn)."""
        if busy == "queue":
            return self._wait_turn(environment, holder, told, timeout_s)
        token = uuid.uuid4().hex
        if self._take(environment, token, holder):
            return Lease(self, environment, token, None)
        current = self.holder(environment)
        if current is not None:
            told(current)
        if busy == "refuse":
            raise LockBusy(environment, current or holder)
        return self._preempt(environment, holder, token, current, timeout_s)

    def _preempt(
        self,
        environment: str,
        holder: Holder,
        token: str,
        current: Holder | None,
        timeout_s: float,
    ) -> Lease:
        """A rollback's way in. Only a deploy is preempted: a rollback (or a reconcile, a
        failover) already puts a release that worked back, and two never undo each other, so
        this one waits for it to end; and of two rollbacks, the one that asked first goes first.
        The deploy is asked to give the lock up (it does before its next step or bake check;
        nobody else takes it meanwhile) and loses it after one lease if it does not answer."""
        give_up = time.monotonic() + timeout_s
        wanted, ms = self._wanted(environment), int(self.lease_s * 2000)
        while True:
            if self._take(environment, token, holder):
                return Lease(self, environment, token, current)
            found = self.holder(environment)
            current = found or current
            asking = found is not None and found.kind == "deploy"
            if asking and self._call(lambda: self.client.set(wanted, token, px=ms, nx=True)):
                break
            if time.monotonic() > give_up:
                raise LockBusy(environment, found or holder)
            time.sleep(POLL_S)
        deadline = time.monotonic() + self.lease_s
        while not self._take(environment, token, holder) and time.monotonic() < deadline:
            time.sleep(POLL_S)
        if time.monotonic() >= deadline:
            self._take(environment, token, holder, force=True)
        with contextlib.suppress(LockUnavailable):  # it lapses by itself
            self._call(lambda: self.client.delete(wanted))
        return Lease(self, environment, token, current)

    def _wait_turn(
        self,
        environment: str,
        holder: Holder,
        told: Callable[[Holder], None],
        timeout_s: float,
    ) -> Lease:
        """Wait in the environment's queue (in the order asked) until this holder's turn."""
        ticket = uuid.uuid4().hex
        deadline = time.monotonic() + timeout_s
        said = False
        try:
            while True:
                taken = self.take_turn(environment, holder, ticket)
                if isinstance(taken, Lease):
                    return taken
                if not said and (current := self.holder(environment)) is not None:
                    told(current)
                    said = True
                if time.monotonic() > deadline:
                    raise LockBusy(environment, self.holder(environment) or holder)
                time.sleep(POLL_S)
        except BaseException:  # timed out, interrupted, Redis away: the queue goes on without it
            with contextlib.suppress(LockUnavailable):
                self.leave(environment, ticket)
            raise

    def take_turn(self, environment: str, holder: Holder, ticket: str) -> Lease | int:
        """The lock if `ticket` is first in the environment's queue and the lock is free (and no
        rollback waits for it), else its place in the queue (1 is next). Asked again by its
        waiter while it waits (at least every TICKET_S); a ticket not asked for that long is
        dropped as its waiter's death. Withdrawn when the ticket was withdrawn (`cancel`)."""
        token = uuid.uuid4().hex
        place = self._turn(environment, holder, ticket, token, "take")
        return Lease(self, environment, token, None) if place == 0 else place

    def join(
        self, environment: str, holder: Holder, ticket: str, asked: float | None = None
    ) -> int:
        """`ticket` in the environment's queue (if not yet), taking nothing: its place (0: it
        could take the lock now). What a /deploy is answered with at once (`asked`: when it was
        asked, in seconds since the epoch; now if None), and what a queued worker task asks
        (renewing its wait) before any other work. Withdrawn when withdrawn."""
        return self._turn(environment, holder, ticket, "", "peek", asked)

    def turn_came(self, environment: str, holder: Holder, ticket: str) -> bool:
        """Whether `ticket` waits no more: its turn came, or it was withdrawn (its task then
        finds out which)."""
        try:
            return self.join(environment, holder, ticket) == 0
        except Withdrawn:
            return True

    def cancel(self, environment: str, ticket: str) -> bool:
        """Withdraw `ticket` from the queue for good: False when it is not waiting there (it
        took its turn already, or never joined)."""
        script = self.client.register_script(leases.CANCEL)
        args: list[str | int] = [ticket, self._ticket(environment, ""), int(WITHDRAWN_S * 1000)]
        return bool(self._call(lambda: script(keys=[self._queue(environment)], args=args)))

    def keep(self, environment: str, ticket: str) -> None:
        """`ticket`'s place kept for another TICKET_S, if it is still in the queue (what its
        waiter's asking does, for a waiter that is alive but not running)."""
        key = self._ticket(environment, ticket)
        self._call(lambda: self.client.pexpire(key, int(TICKET_S * 1000)))

    def withdrawn(self, environment: str, ticket: str) -> bool:
        """Whether `ticket` was withdrawn from the environment's queue (/cancel)."""
        key = self._ticket(environment, f"cancelled:{ticket}")
        return bool(self._call(lambda: self.client.exists(key)))

    def queue(self, environment: str) -> list[tuple[str, Holder]]:
        """Who waits in the environment's queue, first first: (ticket, who), those whose waiter
        died left out."""
        queue = self._queue(environment)
        tickets = [t.decode() for t in self._call(lambda: self.client.zrange(queue, 0, -1))]
        if not tickets:
            return []
        keys = [self._ticket(environment, t) for t in tickets]
        found = self._call(lambda: self.client.mget(keys))
        listed = [(ticket, _waiter(raw)) for ticket, raw in zip(tickets, found, strict=True)]
        return [(ticket, holder) for ticket, holder in listed if holder is not None]

    def ahead(self, environment: str, ticket: str) -> list[Holder]:
        """Who waits in the environment's queue before `ticket` (everyone, if it is not there)."""
        waiting = self.queue(environment)
        tickets = [t for t, _ in waiting]
        before = tickets.index(ticket) if ticket in tickets else len(waiting)
        return [holder for _, holder in waiting[:before]]

    def _turn(
        self,
        environment: str,
        holder: Holder,
        ticket: str,
        token: str,
        mode: str,
        asked: float | None = None,
    ) -> int:
        lease, info = self._keys(environment)
        script = self.client.register_script(leases.TAKE_TURN)
        args: list[str | int | float] = [
            token,
            int(self.lease_s * 1000),
            ticket,
            json.dumps(asdict(holder)),
            time.time() if asked is None else asked,
            self._ticket(environment, ""),
            int(TICKET_S * 1000),
            mode,
        ]
        keys = [lease, info, self._queue(environment), self._wanted(environment)]
        place = int(self._call(lambda: script(keys=keys, args=args)))
        if place < 0:
            raise Withdrawn(f"{environment}: this deploy was withdrawn from the queue")
        return place

    def leave(self, environment: str, ticket: str) -> None:
        """`ticket` out of the environment's queue (its waiter gave up or was told no)."""
        script = self.client.register_script(leases.LEAVE)
        keys = [self._queue(environment), self._ticket(environment, ticket)]
        self._call(lambda: script(keys=keys, args=[ticket]))

    def _ticket(self, environment: str, ticket: str) -> str:
        return f"{PREFIX}:{environment}:ticket:{ticket}"

    def _wanted(self, environment: str) -> str:
        return self._keys(environment)[0] + ":wanted"

    def _queue(self, environment: str) -> str:
        return f"{PREFIX}:{environment}:queue"

    def _take(self, environment: str, token: str, holder: Holder, force: bool = False) -> bool:
        lease, info = self._keys(environment)
        ms = int(self.lease_s * 1000)
        if force:
            self._call(lambda: self.client.set(lease, token, px=ms))
        else:
            script = self.client.register_script(leases.TAKE)
            keys = [lease, self._wanted(environment)]
            if not self._call(lambda: script(keys=keys, args=[token, ms])):
                return False
        # Written only by the one who got the lease, so the holder shown is the real one.
        self._call(lambda: self.client.set(info, json.dumps(asdict(holder)), px=ms))
        return True

    def wanted(self, environment: str) -> bool:
        """Whether a rollback waits to take the environment's lock over."""
        return bool(self._call(lambda: self.client.exists(self._wanted(environment))))

    def renew(self, environment: str, token: str) -> bool:
        keys = self._keys(environment)
        script = self.client.register_script(leases.RENEW)
        return bool(self._call(lambda: script(keys=keys, args=[token, int(self.lease_s * 1000)])))

    def release(self, environment: str, token: str) -> None:
        keys = self._keys(environment)
        script = self.client.register_script(leases.RELEASE)
        self._call(lambda: script(keys=keys, args=[token]))


def _holder(raw: bytes) -> Holder:
    return Holder(**json.loads(raw))


def _waiter(raw: bytes | None) -> Holder | None:
    """Who waits, from a ticket's value: None when it lapsed (its waiter died) or says nobody
    (the previous version kept "1" there)."""
    try:
        return _holder(raw) if raw else None
    except (ValueError, TypeError):
        return None


def holder_now(who: str, kind: str, commit: str, pr: int | None = None, link: str = "") -> Holder:
    return Holder(who, kind, commit, datetime.now(UTC).isoformat(timespec="seconds"), pr, link)
