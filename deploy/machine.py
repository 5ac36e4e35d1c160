"""The blue/green state machine, as pure functions: which step follows which, what a reconcile
does with a deploy that was cut short, and whether what the bake sees is an alert.

    deploy          resolve → start → health → smoke → flip → bake → done
                    (start, health, smoke or flip fails → remove → aborted;
                     an alert during bake → flip-back → flipped-back, the release marked bad)
    rollback        the same without the bake: a redeploy of an older release, never a rebuild
    warm-rollback   resolve → health → flip → done, onto the spare that still holds the release
                    (a spare that is not healthy → start: the cold path)

The executor (deploy/engine.py) performs each step and writes it to the ledger before and after.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from deploy.config import Address, BakeAlert, Environment
from deploy.ledger import BEGIN, END, Entry
from deploy.switch.base import Counters, Server

DONE: Final = "done"
ABORTED: Final = "aborted"
FLIPPED_BACK: Final = "flipped-back"
FAILED: Final = "failed"
RECONCILED: Final = "reconciled"
# A deploy of what already serves; a run stopped before the engine: at the gate, at the lock.
UNCHANGED: Final = "unchanged"
BLOCKED: Final = "blocked"
REFUSED: Final = "refused"
OUTCOMES: Final = frozenset({DONE, ABORTED, FLIPPED_BACK, FAILED})
# The outcomes of a run that did what it was for (the one list: the CLI's exit code, the check
# run's conclusion and the summary all read it).
SUCCEEDED: Final = frozenset({DONE, UNCHANGED, RECONCILED})
PLANS: Final = ("deploy", "rollback", "warm-rollback")
# Failed health probes in a row during the bake that make an alert (one can be a slow moment).
BAKE_PROBE_FAILURES: Final = 2

# plan -> step -> (next when it succeeds, next when it fails)
_COLD: Final[dict[str, tuple[str, str]]] = {
    "resolve": ("start", FAILED),
    "start": ("health", "remove"),
    "health": ("smoke", "remove"),
    "smoke": ("flip", "remove"),
    "remove": (ABORTED, ABORTED),
    "flip-back": (FLIPPED_BACK, FAILED),
}
TRANSITIONS: Final[dict[str, dict[str, tuple[str, str]]]] = {
    "deploy": {**_COLD, "flip": ("bake", "remove"), "bake": (DONE, "flip-back")},
    "rollback": {**_COLD, "flip": (DONE, "remove")},
    "warm-rollback": {
        "resolve": ("health", FAILED),
        "health": ("flip", "start"),
        "flip": (DONE, FAILED),
    },
}


def next_step(plan: str, step: str, ok: bool) -> tuple[str, str]:
    """(plan, the step or outcome) after `step` of `plan` succeeded or failed."""
    after = TRANSITIONS[plan][step][0 if ok else 1]
    if plan == "warm-rollback" and step == "health" and not ok:
        return "rollback", after  # the spare is not healthy: the cold path from here on
    return plan, after


def steps(plan: str) -> list[str]:
    """The steps of a plan when every one succeeds, in order."""
    found, step = [], "resolve"
    while step not in OUTCOMES:
        found.append(step)
        plan, step = next_step(plan, step, ok=True)
    return found


@dataclass(frozen=True)
class Repair:
    """What a reconcile does with a deploy that was cut short."""

    route: str | None  # the colour to route to; None: leave traffic where it is
    commit: str | None  # the release on that colour
    remove: tuple[str, ...]  # colours to stop (a release that never finished)
    detail: str
    failed: bool = False
    bad: bool = False  # the deploy's bake had judged its release bad


def repair(unfinished: Sequence[Entry], healthy: Mapping[str, bool]) -> Repair:
    """Traffic on a healthy release, preferring the one the interrupted deploy was leaving (a
    deploy not finished is not trusted) and, for a rollback, the one it was going to."""
    resolved = next(
        (e for e in unfinished if e.step == "resolve" and e.phase == END and e.colour), None
    )
    if resolved is None:
        return Repair(None, None, (), "it stopped before it touched anything")
    new, old = resolved.colour or "", resolved.extra.get("from")
    releases = {new: resolved.commit, **({old: resolved.previous} if old else {})}
    # A warm rollback's colour is the spare, which stays unless the cold path replaced it.
    warm = bool(resolved.extra.get("warm")) and not any(e.step == "start" for e in unfinished)
    judged_bad = any(e.step == "flip-back" and e.phase == BEGIN for e in unfinished)
    preference = [new, old] if resolved.kind == "rollback" else [old, new]
    if judged_bad:
        preference = [old]
    for colour in preference:
        if colour and releases.get(colour) and healthy.get(colour):
            leaving_new = colour != new and not warm
            return Repair(
                colour,
                releases[colour],
                (new,) if leaving_new else (),
                _said(resolved, colour == new, judged_bad),
                bad=judged_bad,
            )
    return Repair(
        None,
        None,
        (),
        "no colour is healthy: traffic is left where it was; deploy a release that works",
        failed=True,
        bad=judged_bad,
    )


def _said(resolved: Entry, kept_new: bool, judged_bad: bool) -> str:
    release = resolved.commit[:12]
    if kept_new and resolved.kind == "rollback":
        return f"the rollback to {release} was completed"
    if kept_new:
        return f"{release} was kept: the release before it is not healthy"
    if judged_bad:
        return f"the flip back from {release} was completed"
    return f"{release} was taken out: a deploy cut short is not trusted"


def bake_alert(
    before: Counters, now: Counters, up: bool, failed_probes: int, policy: BakeAlert
) -> str | None:
    """Why the bake must flip back, or None while the new colour looks fine. The switch's
    counters judge a rate, never a single event: errors over `policy.error_rate` of at least
    `policy.min_requests` requests since the flip (whatever any one client sends)."""
    if failed_probes >= BAKE_PROBE_FAILURES:
        return f"{failed_probes} health probes in a row failed"
    if not up:
        return "the traffic switch's own health checks took it out"
    grew = now.minus(before)
    if grew.requests < policy.min_requests or not grew.errors:
        return None
    rate = grew.errors / grew.requests
    if rate <= policy.error_rate:
        return None
    return (
        f"{rate:.1%} of {grew.requests} requests since the flip failed (over "
        f"{policy.error_rate:.1%}): the switch counted {grew.responses_5xx} 5xx responses, "
        f"{grew.connection_errors} connection errors and {grew.response_errors} response errors"
    )


def disagreement(env: Environment, servers: Mapping[str, Server]) -> str | None:
    """How the switch's servers differ from the environment's colours (None: they agree). A
    switch started with another deploy.yaml would route a flip to a port nothing deploys to."""
    differences = []
    for colour, address in env.colours.items():
        server = servers.get(colour)
        if server is None:
            differences.append(f"it has no server {colour}")
        elif server.address and not _same_place(server.address, address):
            differences.append(f"it sends {colour} to {server.address}, deploy.yaml to {address}")
    if not differences:
        return None
    return (
        f"the traffic switch of {env.name} disagrees with deploy.yaml: {'; '.join(differences)}. "
        "Restart `deploybot proxy --config` with the deploy.yaml deploys use; nothing was done"
    )


def failover(servers: Mapping[str, Server]) -> tuple[str, str] | None:
    """(failed, spare) when the one colour the switch routes to fails the switch's health checks
    while the drained spare passes them (None otherwise): outside a deploy, the spare should
    take the traffic. A retired colour (maint) is never a spare: it holds no release."""
    live = routed(servers)
    if live is None or servers[live].up:
        return None
    spares = [c for c, server in servers.items() if server.admin == "drain" and server.up]
    return (live, spares[0]) if spares else None


def routed(servers: Mapping[str, Server]) -> str | None:
    """The one colour the switch sends new requests to (None: none, or both)."""
    ready = [colour for colour, server in servers.items() if server.admin == "ready"]
    return ready[0] if len(ready) == 1 else None


def _same_place(routed: str, address: Address) -> bool:
    """Whether HAProxy's `host:port` (a resolved address) is deploy.yaml's: the same port, and
    the same host where deploy.yaml gives an address (a name HAProxy resolved is not compared)."""
    host, _, port = routed.rpartition(":")
    if port != str(address.port):
        return False
    try:
        return ipaddress.ip_address(address.host) == ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return True
