"""What the deploy commands say on GitHub (pure): refusals, the lock and the queue, /status."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from core.commands import suggest
from deploy.config import Environment
from deploy.control import Verdict
from deploy.freeze import Frozen
from deploy.lock import Holder
from deploy.sticky import Hold
from workers.check_output import fence

_LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})")


def unknown_environment(name: str, known: list[str]) -> str:
    problem = f"`{name}` is not an environment of `data/deploy.yaml` (known: " + ", ".join(
        f"`{k}`" for k in known
    )
    return suggest(problem + "); nothing was done.", name, known) + (
        " Environments are read from the default branch."
    )


def deploy_config_broken(error: str, branch: str) -> str:
    closing = fence(error)
    return (
        "deploybot cannot read its deploy configuration, so nothing was done:\n\n"
        f"{closing}text\n{error}\n{closing}\n\n"
        f"It is read from the default branch (`{branch}`), never from a pull request: fix it there."
    )


def not_merged(number: int, state: str) -> str:
    return (
        f"`/deploy` deploys a merged pull request's merge commit, and #{number} is {state}, not "
        "merged: nothing was done. Merge it, then comment `/deploy` here again (or deploy a "
        "commit from the command line: `deploybot deploy <sha>`)."
    )


def not_on_default(number: int, base: str, default: str) -> str:
    return (
        f"`/deploy` deploys what is merged into the default branch (`{default}`), and #{number} "
        f"was merged into `{base}`: nothing was done."
    )


def deploy_locked(env: str, holder: Holder, busy: str) -> str:
    then = {
        "queue": "This one waits its turn and starts when that one ends.",
        "refuse": (
            f"`{env}` is configured to refuse a second deploy (`lock: refuse`): nothing was "
            "done. Comment `/deploy` again once it has finished."
        ),
        "preempt": (
            "A rollback waits for it at most one lease, then takes the lock over; that deploy "
            "stops before its next step."
        ),
    }[busy]
    return f"`{env}` is locked by the {holder.describe()}. {then}"


def deploy_queued(env: str, holder: Holder | None, ahead: list[Holder]) -> str:
    running = f"locked by the {holder.describe()}" if holder is not None else "busy"
    waits = "next" if not ahead else f"number {len(ahead) + 1} in its queue"
    behind = "".join(f"\n{n}. the {h.describe()}" for n, h in enumerate(ahead, 1))
    return (
        f"`{env}` is {running}. This deploy is {waits}: deploys run in the order asked, and "
        "this one starts when its turn comes (it holds no worker while it waits)."
        + (f"\n\nAhead of it:{behind}" if behind else "")
        + f"\n\nWithdraw it with `/cancel {env}`; `/status {env}` lists the queue."
    )


def who(name: str) -> str:
    """A person as a comment names them: @login for a GitHub login (the command line's
    user@host is shown as it is)."""
    return f"@{name}" if _LOGIN.fullmatch(name) else name


def sticky_refused(env: str, hold: Hold) -> str:
    return (
        f"🔒 `{env}` is locked by {who(hold.who)}"
        + (f" on #{hold.pr}" if hold.pr is not None else "")
        + f" since {hold.since}: {hold.reason}. Deploys by anyone else are refused while it is "
        f"held: nothing was done. Ask {who(hold.who)} to comment `/unlock {env}` (or run "
        f"`deploybot unlock --env {env}`), then comment `/deploy {env}` again. `/rollback "
        f"{env}` is never blocked by a lock."
    )


def frozen_refused(env: str, frozen: Frozen, now: datetime, least: str) -> str:
    return (
        f"🧊 `{env}` is in a freeze window: {frozen.describe(now)}. Nothing was done. Comment "
        f"`/deploy {env}` again once it ends; someone with {least} access may deploy now with "
        f"`/deploy {env} --break-glass <reason>` (recorded in the ledger and the summary). "
        f"`/rollback {env}` is never frozen."
    )


def control_refused(env: Environment, verdict: Verdict, now: datetime) -> str:
    """A deploy the environment's sticky lock or freeze window refused, and what to do."""
    hold, frozen = verdict.control.hold, verdict.control.frozen
    if verdict.refused == "locked" and hold is not None:
        return sticky_refused(env.name, hold)
    assert frozen is not None  # noqa: S101 - refused, and not by a lock
    return frozen_refused(env.name, frozen, now, env.override_permission)


def override_refused(env: str, flag: str, user: str, needed: str, has: str) -> str:
    return (
        f"@{user} `/deploy {env} {flag}` needs {needed} access to this repository (`{env}`'s "
        f"`override_permission`; you have {has}): nothing was done. Ask someone with {needed} "
        f"access to comment it, or comment `/deploy {env}` without it."
    )


def lock_passed(env: str, hold: Hold) -> str:
    return (
        f"🔓 This rollback goes through {who(hold.who)}'s lock on `{env}` ({hold.reason}): a "
        "rollback is never blocked by a lock. The lock stays."
    )


def locked(env: str, hold: Hold, again: bool) -> str:
    said = "now holds" if not again else "still holds (with this reason)"
    return (
        f"🔒 {who(hold.who)} {said} `{env}`: {hold.reason}. Deploys by others are refused "
        f"until `/unlock {env}`; a successful deploy does not release it, and `/rollback` always "
        "goes through."
    )


def lock_held_by_other(env: str, hold: Hold) -> str:
    return (
        f"`{env}` is already locked by {who(hold.who)} since {hold.since}: {hold.reason}. "
        f"Nothing was changed. Ask them to `/unlock {env}` first, or `/unlock {env}` yourself "
        "if they are away (it is said here)."
    )


def lock_needs_reason(env: str) -> str:
    return f"`/lock {env}` needs a reason: `/lock {env} <reason>`. Nothing was changed."


def unlocked(env: str, hold: Hold | None, by: str) -> str:
    if hold is None:
        return f"`{env}` was not locked: nothing was changed."
    theirs = "" if hold.who == by else f" (it was {who(hold.who)}'s)"
    return f"🔓 `{env}` is unlocked{theirs}; it had been held since {hold.since}: {hold.reason}."


def cancelled(env: str, holder: Holder, position: int) -> str:
    return (
        f"Withdrawn from `{env}`'s queue (it was number {position}): the {holder.describe()}. "
        "It will not run; the deploys behind it move up."
    )


def nothing_to_cancel(env: str, user: str) -> str:
    return (
        f"@{user} has no deploy waiting in `{env}`'s queue: nothing was withdrawn (one that has "
        f"started is not withdrawn; `/rollback {env}` undoes it). `/status {env}` lists the queue."
    )


def dropped(env: str, number: int, why: str) -> str:
    return (
        f"The deploy of #{number} to `{env}` left the queue without running: {why}. Nothing was "
        "done; the deploys behind it move up. To deploy it after all, merge it again and comment "
        f"`/deploy {env}` on the new pull request."
    )


def no_release_matches(prefix: str, env: str) -> str:
    return (
        f"`/rollback {env} to {prefix}`: no staged release of this repository starts with "
        f"`{prefix}` (or more than one does); nothing was done. `deploybot releases` lists them."
    )


def button_stale(commit: str, env: str, live: str | None) -> str:
    now = f"`{live[:12]}`" if live else "nothing"
    return (
        f"The Roll back button of `{commit[:12]}` acts only while that release is live in "
        f"`{env}`, and {now} is live now: nothing was done. Comment `/rollback {env}` to roll "
        "back from what is live."
    )


def button_pressed(user: str, commit: str, env: str) -> str:
    return f"@{user} pressed Roll back on the deploy of `{commit[:12]}`: rolling `{env}` back."


def status_reply(found: dict[str, Any]) -> str:
    """/status in words: what is live, the spare, the lock, the last run."""
    live, spare, lock = found["live"], found["spare"], found["lock"]
    lines = [
        f"**{found['environment']}** (front `{found['front']}`)",
        f"- live: `{live['commit'][:12]}` on {live['colour']} since {live['since']} by {live['by']}"
        if live
        else "- live: nothing",
        f"- spare: `{spare['commit'][:12]}` on {spare['colour']} (warm)"
        if spare
        else "- spare: none",
        f"- lock: {Holder(**lock).describe()}" if lock else "- lock: free",
        *(
            f"  {n}. queued: the {Holder(**waiting).describe()}"
            for n, waiting in enumerate(found["queue"], 1)
        ),
        f"- held: 🔒 by {who(found['sticky']['who'])} since {found['sticky']['since']}: "
        f"{found['sticky']['reason']}"
        if found["sticky"]
        else "- held: no (`/lock` holds it)",
        _window("frozen now", found["freeze"]["now"]) or "- frozen: no",
        _window("next freeze", found["freeze"]["next"]) or "- next freeze: none within a year",
    ]
    if found["bad"]:
        lines.append(
            "- rolled or flipped back from: " + ", ".join(f"`{c[:12]}`" for c in found["bad"])
        )
    last = found["last"]
    if last:
        final = last[-1]
        lines.append(
            f"- last {final['kind']}: `{final['commit'][:12]}`, "
            f"{final['outcome'] or final['phase']} at {final['at']}"
        )
    return "\n".join(lines)


def _window(what: str, window: dict[str, str] | None) -> str | None:
    if window is None:
        return None
    return (
        f"- {what}: {window['reason']}, {window['start']} until {window['end']} "
        f"({window['timezone']})"
    )
