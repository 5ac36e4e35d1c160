"""What a deploy would do (pure): the steps the engine would take for a release, in words, from
the ledger's state now. A dry run (`/deploy --dry-run`, `deploybot deploy --dry-run`) reports
it; nothing here starts, probes or flips anything."""

from __future__ import annotations

from deploy.config import Environment
from deploy.control import Verdict
from deploy.ledger import State
from deploy.lock import Holder


def plan(env: Environment, state: State, commit: str, image: str) -> list[str]:
    """The deploy of `commit` (served from `image`, or its tree when "") in `env`, step by step;
    one line when it would change nothing."""
    live = state.live
    if live is not None and live.commit == commit:
        return [f"nothing: `{commit[:12]}` is already live on {live.colour}"]
    colour = env.other(live.colour) if live is not None else "blue"
    spare = state.spare
    replaces = (
        f", replacing the spare `{spare[1][:12]}` there"
        if spare is not None and spare[0] == colour
        else ""
    )
    artifact = f"`{image}`" if image else f"the release's tree of `{commit[:12]}`"
    health, smoke, alert = env.health, env.smoke, env.bake_alert
    serving = f"from {live.colour} (`{live.commit[:12]}`) " if live is not None else ""
    keeps = (
        f"then keep {live.colour} (`{live.commit[:12]}`) warm as the spare"
        if live is not None
        else "with no spare (nothing was live before)"
    )
    return [
        f"start {artifact} on {colour} ({env.colours[colour]}){replaces}",
        f"health: GET {health.path} until {health.successes} answers in a row "
        f"(at most {health.timeout_s:g} s)",
        f'smoke: POST /check "{smoke.sentence}", expecting {smoke.expect_verdict}',
        f"flip the front {env.front} {serving}to {colour}",
        f"bake {env.bake_s:g} s (flip back if more than {alert.error_rate:.0%} of at least "
        f"{alert.min_requests} requests fail), {keeps}",
    ]


def verdict_line(
    env: Environment, verdict: Verdict, holder: Holder | None, queue: list[Holder], gate: str | None
) -> str:
    """What a deploy asked now would meet first: a refusal, the gate's block, a wait, or go.
    `gate` is why the gate (or staging) would stop it; None when the release is accepted."""
    hold, frozen = verdict.control.hold, verdict.control.frozen
    if verdict.refused == "locked" and hold is not None:
        return f"be refused: {env.name} is locked by {hold.describe()}"
    if verdict.refused == "frozen" and frozen is not None:
        until = f"{frozen.end:%Y-%m-%d %H:%M} {frozen.window.timezone}"
        return f"be refused: {env.name} is frozen: {frozen.window.reason} (until {until})"
    if holder is not None and env.lock == "refuse":
        return f"be refused: {env.name} is locked by the {holder.describe()} (lock: refuse)"
    if gate is not None:
        return f"be stopped before any traffic moves: {gate}"
    glass = (
        f" (breaking the glass of the freeze {verdict.broke_glass.window.reason!r})"
        if verdict.broke_glass is not None
        else ""
    )
    if holder is not None or queue:
        running = f"the {holder.describe()}" if holder is not None else "nothing running"
        return f"wait its turn{glass}: number {len(queue) + 1} in the queue, behind {running}"
    return f"go ahead at once{glass}"
