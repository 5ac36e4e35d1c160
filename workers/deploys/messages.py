"""What the deploy commands say on GitHub (pure): refusals, the lock and the queue, /status."""

from __future__ import annotations

from typing import Any

from core.commands import suggest
from deploy.lock import Holder
from workers.check_output import fence


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


def deploy_queued(env: str, holder: Holder | None, position: int) -> str:
    ahead = f"locked by the {holder.describe()}" if holder is not None else "busy"
    waits = "next" if position == 1 else f"number {position} in its queue"
    return (
        f"`{env}` is {ahead}. This deploy is {waits}: deploys run in the order asked, and "
        "this one starts when its turn comes (it holds no worker while it waits)."
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
