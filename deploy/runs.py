"""One deploy or rollback, as the command line and the workers both run it. They differ only in
how they report (a terminal, or GitHub) and where a release's source comes from.

The order, and why:

1. Resolve what was asked, before any lock: a release by its commit prefix, and for a rollback
   with no target the previous good release (`target`). A typo, or a rollback with nowhere to
   go, is answered at once and never stops a deploy in progress; and the target is the one the
   asker saw (a run that resumes after its worker died goes to the same one).
2. Take the environment's lock (the caller does: it waits in the queue, is refused or takes the
   lock over as the environment and the kind of run say, and tells its user its own way).
3. Under the lock, stage the release if it has none (`Locked.release`): the gate measures it
   against what serves now, which no other run can change before this one flips.
4. Settle what an earlier holder left unfinished, then run the engine (`Locked.engine`). A
   rollback with no target that comes right after an interrupted deploy finds the settle has
   already put its target back: the engine answers `unchanged`, with nothing flipped twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from deploy import machine, places
from deploy.engine import Engine, Place, Result, rollback_target, unfit
from deploy.ledger import State
from deploy.lock import Lease
from deploy.manifest import Manifest, ReleaseIndex
from deploy.progress import Progress


@dataclass(frozen=True)
class Ask:
    """A deploy or rollback, resolved: the release it puts live, and who asked."""

    kind: str  # deploy | rollback
    commit: str
    by: str  # who, as the ledger says
    named: bool = True  # the asker named the release (a rollback without a target did not)
    run_id: str | None = None
    note: dict[str, object] | None = None  # recorded in the ledger with its end (broken glass)


def find_release(index: ReleaseIndex, prefix: str) -> str | None:
    """The one staged release whose commit starts with `prefix` (None: none, or several)."""
    found = [m.commit for m in index.all() if m.commit.startswith(prefix)]
    return found[0] if len(found) == 1 else None


def target(place: Place, state: State, to: str | None) -> str | Result:
    """What a rollback goes to, as `state` (the ledger now) says: `to` if its release may be put
    live, else the previous good release; or why there is none, as the run's end (nothing was
    done)."""
    if to is not None:
        refusal = unfit(place.staging.index(place.repository).get(to), to, place.repository)
        failed = Result(machine.FAILED, to, f"{refusal}; nothing was done", "resolve")
        return failed if refusal else to
    found = rollback_target(state)
    if found is not None:
        return found
    env = place.env.name
    detail = (
        f"no earlier release was live in {env} to roll back to"
        if state.live is not None
        else f"nothing is live in {env} to roll back from"
    )
    return Result(machine.FAILED, "", detail, "resolve")


class Locked:
    """The part of one run that holds the environment's lease, in the order above."""

    def __init__(self, place: Place, ask: Ask, lease: Lease | None, progress: Progress) -> None:
        self.place = place
        self.ask = ask
        self.lease = lease
        self.progress = progress

    def release(self, stage: Callable[[], Manifest]) -> Manifest | None:
        """The release put live: a deploy's is staged now (by `stage`, which raises Blocked or
        ReleaseFailed when it cannot be) if it has none. None: a rollback's with none."""
        index = self.place.staging.index(self.place.repository)
        found = index.get(self.ask.commit)
        if found is None and self.ask.kind == "deploy":
            return stage()
        return found

    def engine(self) -> Result:
        """Settle what an earlier holder left, then deploy or roll back. A rollback to "the
        previous release" that settles a deploy judges the release it takes out."""
        ask = self.ask
        engine = Engine(self.place, self.progress, ask.by, self.lease)
        engine.reconcile(rollback=ask.kind == "rollback" and not ask.named)
        if ask.kind == "deploy":
            return engine.deploy(ask.commit, run_id=ask.run_id, note=ask.note)
        return engine.rollback(ask.commit, run_id=ask.run_id, back=not ask.named)


def retain_after(
    result: Result, ask: Ask, place: Place, registry: Callable[[], str] | None
) -> tuple[bool, str] | None:
    """After a deploy that is done, the releases no environment pins are removed (the last few
    kept): (whether that went well, in words); None after anything else."""
    if ask.kind != "deploy" or result.outcome != machine.DONE:
        return None
    return places.retain(place.staging.data_dir, place.repository, registry)
