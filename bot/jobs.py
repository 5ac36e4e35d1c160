"""What a delivery asks of the receiver: one small job to enqueue, or a reason to do nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from gidgethub import routing, sansio

from core.contract import Message
from core.settings import Settings


@dataclass(frozen=True)
class Context:
    """What a decision knows besides the delivery: the settings and when the delivery came."""

    settings: Settings
    received_at: datetime


@dataclass(frozen=True)
class Note:
    """A fact recorded when the job is accepted, in the same atomic step: `field` of the Redis
    hash `key` is set to `value` unless it holds one already (the first sighting wins)."""

    key: str
    field: str
    value: str


@dataclass(frozen=True)
class Job:
    """One task of the contract to send by name. `logical_key` names the change, so that the
    same change delivered under two delivery ids starts one job."""

    message: Message
    logical_key: str
    note: Note | None = None


@dataclass(frozen=True)
class Ignore:
    """Nothing to do; the reason goes back to GitHub in the response body as "ignored: <reason>"."""

    reason: str


@dataclass(frozen=True)
class Pong:
    """GitHub's ping on (re)configuring the webhook."""


Decision = Job | Ignore | Pong


@dataclass
class Plan:
    """Collects the decisions of the router's callbacks for one delivery."""

    decisions: list[Decision] = field(default_factory=list)

    def add(self, decision: Decision) -> None:
        self.decisions.append(decision)

    def outcome(self, event: str, action: str | None) -> Decision:
        """The single decision for the delivery: the job if a callback made one, else the first
        other decision, else "ignored" for an event or action no callback handles."""
        jobs = [d for d in self.decisions if isinstance(d, Job)]
        if len(jobs) > 1:
            # One job per delivery: claiming the delivery and queueing its job is one atomic step.
            raise RuntimeError(f"{event}: {len(jobs)} callbacks each made a job; expected one")
        if jobs:
            return jobs[0]
        if self.decisions:
            return self.decisions[0]
        return Ignore(f"{event}{f'.{action}' if action else ''} is not handled")


# A pure function of the delivery (its payload and id) and its context.
Decide = Callable[[sansio.Event, Context], Decision]


def on(router: routing.Router, decide: Decide, event: str, **detail: str) -> None:
    """Route `event` (optionally one action) to `decide(event, context)`."""

    async def callback(event: sansio.Event, plan: Plan, context: Context) -> None:
        plan.add(decide(event, context))

    router.add(callback, event, **detail)
