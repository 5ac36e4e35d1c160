"""What on-call reads (pure): the summary of a deploy or rollback driven from GitHub, and the
deploybot/deploy check run's output, both from the same facts. The first line says what is live
now; after a rollback or an automatic flip-back it cannot be missed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from core.names import DEPLOY_SUMMARY_MARKER
from deploy.engine import Result
from deploy.ledger import Entry
from deploy.machine import FLIPPED_BACK, RECONCILED, UNCHANGED
from deploy.manifest import Manifest
from deploy.progress import Step
from workers.check_output import Output, fence
from workers.deploys.messages import who
from workers.messages import gate_table

# GitHub's limit on a deployment status description.
MAX_DESCRIPTION: Final = 140
DETAIL_CHARS: Final = 120


@dataclass(frozen=True)
class Facts:
    """One deploy or rollback, as far as it has got."""

    env: str
    front: str
    kind: str  # deploy | rollback
    commit: str  # the release it puts live
    by: str
    pr: int | None  # the pull request it was asked on
    ended: Result | None  # None while it runs
    live: str | None  # the release live now, per the ledger
    live_since: str | None
    live_pr: int | None  # the pull request the live release came from
    before: str | None  # the release live before this run began
    before_pr: int | None  # the pull request that release came from
    steps: tuple[Step, ...]
    manifest: Manifest | None
    check_url: str | None = None
    broke_glass: dict[str, str] | None = None  # the freeze window it was let into, by whom, why

    @property
    def running(self) -> bool:
        return self.ended is None

    @property
    def outcome(self) -> str | None:
        return self.ended.outcome if self.ended else None

    @property
    def detail(self) -> str:
        """The outcome in words (the failure, when there is one)."""
        return self.ended.detail if self.ended else ""

    @property
    def failed_step(self) -> str | None:
        return self.ended.step if self.ended else None

    @property
    def ok(self) -> bool:
        return self.ended is not None and self.ended.ok

    @property
    def rolled_back(self) -> bool:
        """Traffic went back to an older release: a rollback, or the bake's flip-back."""
        return self.outcome == FLIPPED_BACK or (self.kind == "rollback" and self.ok)


def _sha(commit: str | None) -> str:
    return f"`{commit[:12]}`" if commit else "nothing"


def _pr(number: int | None) -> str:
    return f" (#{number})" if number is not None else ""


def headline(facts: Facts) -> str:
    """The first line: what is live now, and what happened to get there."""
    env, live = facts.env, _sha(facts.live) + _pr(facts.live_pr)
    if facts.running:
        doing = facts.steps[-1].name if facts.steps else "queued"
        return f"⏳ {facts.kind.upper()} of {_sha(facts.commit)} to {env} in progress ({doing})"
    if facts.outcome == FLIPPED_BACK:
        return (
            f"**ROLLED BACK — {env} is on {live}**: {_sha(facts.commit)} raised an alert during "
            "its bake and traffic was flipped back automatically"
        )
    if facts.rolled_back:
        return f"**ROLLED BACK — {env} is on {live}**"
    if facts.outcome == UNCHANGED:
        return f"✅ {env} is on {live}: {facts.detail}"
    if facts.outcome == RECONCILED:
        return (
            f"⚠️ The {facts.kind} of {_sha(facts.commit)} was cut short (its worker died); "
            f"{env} is on {live}"
        )
    if facts.ok:
        return f"🚀 {env} is on {live}"
    where = f" at **{facts.failed_step}**" if facts.failed_step else ""
    return f"❌ The {facts.kind} of {_sha(facts.commit)} failed{where}: {env} is on {live}"


def description(facts: Facts) -> str:
    """The deployment status's description (at most 140 characters)."""
    text = headline(facts).replace("**", "")
    return text if len(text) <= MAX_DESCRIPTION else text[: MAX_DESCRIPTION - 1] + "…"


def _steps_table(steps: tuple[Step, ...]) -> list[str]:
    rows = ["| step | result | took | what was found |", "|---|---|---|---|"]
    for step in steps:
        took = f"{step.seconds:.2f} s" if step.seconds is not None else ""
        first = step.detail.splitlines()[0] if step.detail else ""
        shown = first if len(first) <= DETAIL_CHARS else first[: DETAIL_CHARS - 1] + "…"
        rows.append(f"| {step.name} | {step.state} | {took} | {shown.replace('|', '/')} |")
    return rows


def _evidence(steps: tuple[Step, ...]) -> list[str]:
    found = [s for s in steps if s.name in {"health", "smoke"} and s.state != "started"]
    return [f"- **{s.name}**: {s.detail.splitlines()[0] if s.detail else s.state}" for s in found]


def _what(facts: Facts) -> str:
    """The run's own row: a deploy names the release it puts live; a rollback the release it
    rolls back from (what on-call looks for), and where it was asked."""
    if facts.kind == "rollback":
        asked = f" on #{facts.pr}" if facts.pr is not None else ""
        rolled = f"{_sha(facts.before)}{_pr(facts.before_pr)}"
        return f"| rollback of | {rolled}, by @{facts.by}{asked} |"
    return f"| {facts.kind} of | {_sha(facts.commit)}{_pr(facts.pr)} by @{facts.by} |"


def _overrides(facts: Facts) -> list[str]:
    """The rows of what a maintainer overrode for this run, with who and why."""
    rows = []
    accepted = facts.manifest.override if facts.manifest is not None else None
    if accepted is not None and facts.kind == "deploy":
        rows.append(
            f"| gate override | inconclusive, accepted by {who(accepted.by)}: {accepted.reason} |"
        )
    glass = facts.broke_glass
    if glass is not None:
        rows.append(
            f'| break-glass | freeze "{glass["window"]}" (until {glass["until"]}) broken by '
            f"{who(glass['by'])}: {glass['reason']} |"
        )
    return rows


def summary(facts: Facts) -> str:
    """The on-call summary comment (edited in place as the run goes)."""
    rows = [
        "| | |",
        "|---|---|",
        f"| live now | {_sha(facts.live)}{_pr(facts.live_pr)} since {facts.live_since or '-'} |",
        f"| live before | {_sha(facts.before)}{_pr(facts.before_pr)} |",
        _what(facts),
        f"| front | `{facts.front}` |",
        *_overrides(facts),
    ]
    parts = [DEPLOY_SUMMARY_MARKER, headline(facts), "", *rows, ""]
    if not facts.running and not facts.ok and facts.detail:
        closing = fence(facts.detail)
        parts += [f"{closing}text", facts.detail.strip(), closing, ""]
    evidence = _evidence(facts.steps)
    if evidence:
        parts += ["Evidence:", *evidence, ""]
    if facts.steps:
        parts += [*_steps_table(facts.steps), ""]
    if facts.manifest is not None and facts.kind == "deploy":
        parts += [*gate_table(facts.manifest), ""]
    if facts.check_url:
        parts.append(f"[deploy check run]({facts.check_url})")
    if not facts.running and facts.live and facts.kind == "deploy":
        parts.append(f"Roll back with `/rollback {facts.env}`.")
    return "\n".join(parts).rstrip() + "\n"


def check_output(facts: Facts) -> Output:
    """The deploybot/deploy check run's title and summary."""
    shown = summary(facts).removeprefix(DEPLOY_SUMMARY_MARKER + "\n")
    return Output(headline(facts).replace("**", ""), shown)


def failover_notice(env: str, finish: Entry) -> str:
    """The on-call issue's comment on a failover (the ledger's finish of its run)."""
    failed = _sha(finish.previous)
    return "\n".join(
        [
            f"**FAILED OVER — {env} is on {_sha(finish.commit)}** (the warm spare, "
            f"{finish.colour}): the live colour serving {failed} failed HAProxy's health "
            f"checks, and `deploybot proxy` routed the traffic to the spare at {finish.at}.",
            "",
            finish.detail,
            "",
            f"Find why {failed} died (`deploybot status`, its colour's logs), then deploy it "
            f"again (`/deploy {env}` on its pull request) or leave the spare serving.",
        ]
    )
