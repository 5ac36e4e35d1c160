"""The executor of deploy/machine.py: each step written to the ledger before it is acted on and
after it completes, performed through the runtime (deploy/backends/) and the traffic switch
(deploy/switch/), under the environment's lock (deploy/lock.py).

A step that fails is written as failed, with why, and the machine says what follows (before the
flip: the new colour is removed and the old one keeps serving; during the bake: the flip back). A
holder whose lock was taken over (a rollback that waited one lease) stops before its next step and
writes nothing more: the new holder reconciles what it left.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Final

from core.errors import DeploybotError, LeaseLost, StepFailed
from deploy import health, machine
from deploy.backends.base import Artifact, Backend
from deploy.config import Environment
from deploy.ledger import BEGIN, END, FAIL, FINISH, Entry, Ledger, State, read
from deploy.lock import Lease
from deploy.manifest import Manifest
from deploy.progress import Progress, Step
from deploy.release import Staging
from deploy.switch.base import Counters, Switch

DRAIN_TIMEOUT_S: Final = 30.0
BAKE_INTERVAL_S: Final = 0.5
LOG_LINES: Final = 20


@dataclass(frozen=True)
class Place:
    """Everything one environment's deploys act on."""

    env: Environment
    ledger: Ledger
    backend: Backend
    switch: Switch
    staging: Staging
    repository: str

    def name(self, colour: str) -> str:
        return f"deploybot-{self.env.name}-{colour}"

    def url(self, colour: str) -> str:
        return f"http://127.0.0.1:{self.env.colours[colour].port}"

    def state(self) -> State:
        return read(self.ledger.entries())


@dataclass(frozen=True)
class Result:
    """How a run ended: the one vocabulary from the engine to the ledger's reader, the stored
    record of a run asked from GitHub and the on-call summary."""

    outcome: str  # machine's: done | unchanged | aborted | flipped-back | failed | reconciled
    # (or, for a run stopped before the engine: blocked | refused)
    commit: str  # the release it was to put live ("" when it named none)
    detail: str = ""
    step: str | None = None  # the step that failed, if one did

    @property
    def ok(self) -> bool:
        return self.outcome in machine.SUCCEEDED


@dataclass
class Run:
    """One deploy or rollback in flight."""

    kind: str
    plan: str
    commit: str
    by: str
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    artifact: Artifact | None = None
    colour: str = ""  # the colour it puts live
    old: str | None = None  # the colour serving before it
    previous: str | None = None  # the release serving before it
    warm: bool = False
    flipped: bool = False
    # Where traffic stays when a flip back finds nowhere healthy to go (the new colour).
    stays: str | None = None
    switch_ms: float | None = None  # how long the switch took to route to the new colour
    # The new colour's counters before the flip: the bake judges everything from there on,
    # the flip's own drain window included.
    baseline: Counters | None = None
    failure: tuple[str, str] | None = None
    # What its finish entry records beside the outcome: who overrode the gate or a freeze, why.
    note: dict[str, object] = field(default_factory=dict)
    # A rollback asked without a target leaves the release it rolls back from as bad; one to a
    # named release (forward again, say) judges nothing.
    leaves_bad: bool = False
    committed_at: str | None = None  # the release's commit time (for lead time)


class Engine:
    def __init__(
        self,
        place: Place,
        progress: Progress,
        by: str,
        lease: Lease | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.place = place
        self.progress = progress
        self.by = by
        self.lease = lease
        self.sleep = sleep

    # -- the two commands -------------------------------------------------------------------

    def deploy(
        self, commit: str, run_id: str | None = None, note: dict[str, object] | None = None
    ) -> Result:
        """Put `commit`'s staged release live; `run_id` names the run in the ledger (a caller
        that records it first can find the run after a crash); `note` goes into its finish
        entry (a freeze's broken glass, say)."""
        state = self.place.state()
        live = state.live
        # A live release whose colour died is deployed again (onto the other colour).
        if live is not None and live.commit == commit and self._serves(live.colour, commit):
            return Result(
                machine.UNCHANGED, commit, f"{commit[:12]} is already live on {live.colour}"
            )
        run = _run("deploy", commit, self.by, run_id)
        run.note.update(note or {})
        return self._drive(run)

    def rollback(
        self, to: str | None = None, run_id: str | None = None, back: bool | None = None
    ) -> Result:
        """Go to `to`, or without it to the previous good release. `back` (default: no `to`
        given) marks the release left as bad, for a caller that chose the target the same way."""
        state = self.place.state()
        if state.live is None:
            return Result(machine.FAILED, to or "", "nothing is live to roll back from", "resolve")
        target = to or rollback_target(state)
        if target is None:
            return Result(
                machine.FAILED,
                "",
                f"no earlier release was live in {self.place.env.name} to roll back to",
                "resolve",
            )
        if target == state.live.commit:
            return Result(machine.UNCHANGED, target, f"{target[:12]} is already live")
        run = _run("rollback", target, self.by, run_id)
        run.leaves_bad = to is None if back is None else back
        return self._drive(run)

    # -- the loop ---------------------------------------------------------------------------

    def _drive(self, run: Run) -> Result:
        plan, step = run.plan, "resolve"
        while step not in machine.OUTCOMES:
            if self.lease is not None and not self.lease.held():
                raise LeaseLost(
                    f"the lock of {self.place.env.name} was taken over (or lapsed) before {step}"
                )
            ok = self._step(run, step)
            if step == "resolve":
                plan = run.plan  # resolve decides between a warm and a cold rollback
            plan, step = machine.next_step(plan, step, ok)
        failed_step, detail = run.failure or (None, "")
        # The bake judged the release bad, whether or not the flip back could be made.
        bad = failed_step == "bake"
        self._write(
            run,
            FINISH,
            END,
            outcome=step,
            detail=detail,
            bad=bad,
            left=run.leaves_bad,
            note=run.note,
        )
        return Result(step, run.commit, detail, failed_step if step != machine.DONE else None)

    def _step(self, run: Run, step: str) -> bool:
        actions: dict[str, Callable[[Run], str]] = {
            "resolve": self._resolve,
            "start": self._start,
            "health": self._health,
            "smoke": self._smoke,
            "flip": self._flip,
            "bake": self._bake,
            "remove": self._remove,
            "flip-back": self._flip_back,
        }
        # The run's note is in its first entry too: a worker that dies mid-run leaves it there.
        first = run.note if step == "resolve" else None
        self._write(run, step, BEGIN, route=self._route(run, step), note=first)
        self.progress(Step(step, "started"))
        started = time.monotonic()
        try:
            detail = actions[step](run)
        except LeaseLost:
            raise  # another holder owns the environment now: write nothing more
        except Exception as exc:  # whatever a runtime or the switch raises (a Docker APIError,
            # a bad URL, an OSError) is this step's failure: the run takes its failure path and
            # gets its end entry, never a half-written ledger.
            took = time.monotonic() - started
            said = str(exc) if isinstance(exc, DeploybotError) else f"{type(exc).__name__}: {exc}"
            if run.failure is None or step not in {"remove", "flip-back"}:
                run.failure = (step, said)
            else:
                run.failure = (run.failure[0], f"{run.failure[1]}\nthen {step} failed: {said}")
            # A flip back with nowhere healthy to go leaves traffic where this run put it (one
            # the switch refused leaves the intent, the old colour, for `deploybot proxy`).
            self._write(run, step, FAIL, route=run.stays, detail=said, seconds=took)
            self.progress(Step(step, "failed", took, said))
            return False
        took = time.monotonic() - started
        self._write(run, step, END, detail=detail, seconds=took)
        self.progress(Step(step, "done", took, detail))
        return True

    def _route(self, run: Run, step: str) -> str | None:
        """Where traffic is meant to go once this step begins (None: where it was)."""
        if step == "flip":
            return run.colour
        if step in {"remove", "flip-back"} and run.flipped:
            return run.old
        return None

    def _write(
        self,
        run: Run,
        step: str,
        phase: str,
        *,
        route: str | None = None,
        outcome: str = "",
        detail: str = "",
        seconds: float | None = None,
        bad: bool = False,
        left: bool = False,
        note: dict[str, object] | None = None,
    ) -> None:
        self._fence(f"{step} {phase}")
        extra: dict[str, object] = {"bad": True} if bad else {}
        extra.update(note or {})
        if left:
            extra["left_bad"] = True
        if seconds is not None:
            extra["seconds"] = round(seconds, 3)
        if step == "resolve" and phase == END:
            extra.update({"from": run.old, "warm": run.warm})
            if run.committed_at:
                extra["committed_at"] = run.committed_at
        if step == "flip" and phase == END and run.switch_ms is not None:
            extra["switch_ms"] = round(run.switch_ms, 2)
        colour = run.colour or None
        if step == "flip-back" and phase == END:
            route = run.old
        self.place.ledger.append(
            Entry(
                deploy=run.id,
                kind=run.kind,
                step=step,
                phase=phase,
                commit=run.commit,
                colour=colour,
                previous=run.previous,
                route=route,
                outcome=outcome,
                by=run.by,
                detail=detail,
                extra=extra,
            )
        )

    def _fence(self, what: str) -> None:
        """LeaseLost unless this run's lease is still its own: checked before every ledger
        write and switch command, so a holder whose lock was taken over (while it waited on a
        drain, say) never records or routes after the new holder."""
        if self.lease is not None and not self.lease.valid():
            raise LeaseLost(
                f"the lock of {self.place.env.name} was taken over (or lapsed); {what} was not done"
            )

    # -- the steps --------------------------------------------------------------------------

    def _resolve(self, run: Run) -> str:
        place = self.place
        manifest = place.staging.index(place.repository).get(run.commit)
        refusal = unfit(manifest, run.commit, place.repository)
        if refusal is not None or manifest is None:
            raise StepFailed(refusal or "no release")
        run.artifact = _artifact(place, manifest)
        run.committed_at = manifest.committed_at
        # The switch answers, and routes to the ports this deploy.yaml names, before anything
        # is started.
        servers = place.switch.servers(place.env.name)
        disagreement = machine.disagreement(place.env, servers)
        if disagreement is not None:
            raise StepFailed(disagreement)
        state = place.state()
        truth = self._serving(run, machine.routed(servers), state)
        run.colour = place.env.other(run.old) if run.old else "blue"
        spare = state.spare
        warm = (
            run.kind == "rollback"
            and spare is not None
            and spare[1] == run.commit
            and spare[0] != run.old  # never the colour the switch serves from
        )
        if spare is not None and warm and place.backend.alive(place.name(spare[0])):
            run.colour, run.warm, run.plan = spare[0], True, "warm-rollback"
        serving = f"; {run.old} keeps serving {run.previous[:12]}" if run.previous else ""
        how = " (warm: the spare holds it)" if run.warm else ""
        judged = f"gate {manifest.verdict}"
        if manifest.override is not None:
            judged += f", accepted by {manifest.override.by}: {manifest.override.reason}"
            if run.kind == "deploy":
                run.note["accepted_inconclusive"] = asdict(manifest.override)
        return f"{run.commit[:12]} ({judged}) onto {run.colour}{how}{serving}{truth}"

    def _serving(self, run: Run, routed: str | None, state: State) -> str:
        """Set what serves now (run.old, run.previous): the ledger's live colour, unless the
        switch routes to the other one and it serves a release. The switch is the truth, the
        ledger its record: the colour that serves is never the one replaced. What was found,
        in words, when the two disagree."""
        if state.live is not None:
            run.old, run.previous = state.live.colour, state.live.commit
        if routed is None or routed == run.old:
            return ""
        try:
            serves = health.version(self.place.url(routed)).get("commit")
        except OSError:
            return ""  # the routed colour serves nothing: there is nothing to keep
        if not serves:
            return ""
        ledger = f"{run.old} ({(run.previous or '')[:12]})" if run.old else "nothing"
        run.old, run.previous = routed, serves
        return (
            f"; the ledger had {ledger} live but the switch routes to {routed}, which serves "
            f"{serves[:12]}: {routed} is kept"
        )

    def _start(self, run: Run) -> str:
        place, env = self.place, self.place.env
        self._fence(f"retiring {run.colour}")
        place.switch.retire(env.name, run.colour)
        place.switch.wait_drained(env.name, run.colour, DRAIN_TIMEOUT_S)
        if run.artifact is None:
            raise StepFailed("the release was not resolved")
        self._fence(f"starting {run.colour}")
        place.backend.start(
            place.name(run.colour),
            run.artifact,
            env.colours[run.colour].port,
            {"environment": env.name, "colour": run.colour},
        )
        return f"{env.runtime} serving {run.commit[:12]} on {env.colours[run.colour]}"

    def _health(self, run: Run) -> str:
        env, url = self.place.env, self.place.url(run.colour)
        found = health.wait_healthy(
            url, env.health.path, env.health.successes, env.health.timeout_s
        )
        if not found.ok:
            logs = self.place.backend.logs(self.place.name(run.colour), LOG_LINES)
            raise StepFailed(f"{found.detail}\n{logs}")
        serves = health.version(url).get("commit")
        if serves != run.commit:
            raise StepFailed(
                f"{env.colours[run.colour]} serves {serves}, not {run.commit[:12]}: something "
                "else listens on that port"
            )
        return found.detail

    def _smoke(self, run: Run) -> str:
        smoke = self.place.env.smoke
        found = health.smoke(self.place.url(run.colour), smoke.sentence, smoke.expect_verdict)
        if not found.ok:
            raise StepFailed(found.detail)
        return found.detail

    def _flip(self, run: Run) -> str:
        env, switch = self.place.env, self.place.switch
        run.flipped = True
        spare = run.old or env.other(run.colour)
        run.baseline = switch.servers(env.name)[run.colour].counters
        self._fence(f"routing to {run.colour}")
        started = time.monotonic()
        switch.route(env.name, run.colour, spare)
        flip_ms = run.switch_ms = (time.monotonic() - started) * 1000
        if run.old is None:
            return f"routed to {run.colour} in {flip_ms:.1f} ms"
        waited = time.monotonic()
        drained = switch.wait_drained(env.name, run.old, DRAIN_TIMEOUT_S)
        drain = (
            f"{run.old} drained in {time.monotonic() - waited:.2f} s"
            if drained
            else f"{run.old} still had requests in flight after {DRAIN_TIMEOUT_S:.0f} s; "
            "they finish there (it stays warm)"
        )
        return f"routed to {run.colour} in {flip_ms:.1f} ms; {drain}; {run.old} is the spare"

    def _bake(self, run: Run) -> str:
        env, switch = self.place.env, self.place.switch
        before = run.baseline or switch.servers(env.name)[run.colour].counters
        deadline = time.monotonic() + env.bake_s
        failed_probes, probes = 0, 0
        while time.monotonic() < deadline:
            self.sleep(min(BAKE_INTERVAL_S, max(0.0, deadline - time.monotonic())))
            if self.lease is not None and not self.lease.held():
                raise LeaseLost(
                    f"the lock of {env.name} was taken over (or lapsed) during the bake"
                )
            failed_probes = 0 if _answers(self.place.url(run.colour), env) else failed_probes + 1
            probes += 1
            server = switch.servers(env.name)[run.colour]
            alert = machine.bake_alert(
                before, server.counters, server.up, failed_probes, env.bake_alert
            )
            if alert is not None:
                raise StepFailed(f"alert during the bake of {run.commit[:12]}: {alert}")
        return f"{env.bake_s:g} s, {probes} probes, no alert"

    def _take_out(self, run: Run) -> str:
        """Traffic back on the old colour (if the flip began) and the new colour stopped. The
        old colour is checked first, and its release restarted if it died: traffic never goes
        to a colour that does not answer, and the only colour serving is never stopped."""
        place, env = self.place, self.place.env
        revived = ""
        if run.flipped and run.old is not None:
            revived = self._revive(run, run.old)
            self._fence(f"routing back to {run.old}")
            place.switch.route(env.name, run.old, run.colour)
            place.switch.wait_drained(env.name, run.colour, DRAIN_TIMEOUT_S)
        self._fence(f"retiring {run.colour}")
        place.switch.retire(env.name, run.colour)
        logs = place.backend.logs(place.name(run.colour), LOG_LINES)
        place.backend.stop(place.name(run.colour))
        back = (
            f"traffic is on {run.old} ({run.previous[:12]})"
            if run.previous
            else ("nothing else was live: the front answers 503 until a release is deployed")
        )
        return f"{revived}{run.colour} stopped; {back}\nits last log lines:\n{logs}"

    def _revive(self, run: Run, colour: str) -> str:
        """Make sure `colour` serves the previous release, restarting it there if it does not;
        StepFailed (traffic left where it is) when it cannot. What was done, in words."""
        if run.previous is None or self._serves(colour, run.previous):
            return ""
        place, env = self.place, self.place.env
        keeps = f"traffic stays on {run.colour} ({run.commit[:12]}), the only colour serving"
        manifest = place.staging.index(place.repository).get(run.previous)
        if manifest is None:
            run.stays = run.colour
            raise StepFailed(
                f"{colour} does not serve {run.previous[:12]} and its release is gone; {keeps}"
            )
        self._fence(f"restarting {colour}")
        place.backend.start(
            place.name(colour),
            _artifact(place, manifest),
            env.colours[colour].port,
            {"environment": env.name, "colour": colour},
        )
        found = health.wait_healthy(
            place.url(colour), env.health.path, env.health.successes, env.health.timeout_s
        )
        if not found.ok or not self._serves(colour, run.previous):
            place.backend.stop(place.name(colour))
            run.stays = run.colour
            raise StepFailed(
                f"{colour} did not serve {run.previous[:12]} and did not come back when "
                f"restarted ({found.detail}); {keeps}"
            )
        return f"{colour} had stopped serving {run.previous[:12]}: restarted it there; "

    def _remove(self, run: Run) -> str:
        return self._take_out(run)

    def _flip_back(self, run: Run) -> str:
        return f"{run.commit[:12]} is marked bad. " + self._take_out(run)

    # -- the live colour died outside a deploy ----------------------------------------------

    def fail_over(self, failed: str, spare: str, why: str) -> Result:
        """Traffic off `failed` onto the warm `spare`, once the spare is seen to serve the
        release the ledger says it holds; recorded as a run of its own (a failure, restored)."""
        place, env = self.place, self.place.env
        state = place.state()
        if state.unfinished:  # a run whose holder died: settled as any such run is
            return self.reconcile() or Result(machine.UNCHANGED, "", "nothing was left unfinished")
        holds = state.colours.get(spare)
        if state.live is None or state.live.colour != failed or holds is None:
            said = f"the ledger does not have {failed} live with {spare} holding a release"
            return Result(machine.UNCHANGED, holds or "", f"{said}: left to the next deploy")
        if not self._serves(spare, holds):
            return Result(machine.FAILED, holds, f"{spare} does not serve {holds[:12]}", "resolve")
        run = Run("failover", "failover", holds, self.by)
        run.colour, run.old, run.previous = spare, failed, state.live.commit
        self._write(run, "failover", BEGIN, route=spare, detail=why)
        started = time.monotonic()
        place.switch.route(env.name, spare, failed)
        took = time.monotonic() - started
        detail = (
            f"{failed} ({run.previous[:12]}) {why}: routed to {spare} ({holds[:12]}), the warm "
            f"spare, in {took * 1000:.1f} ms; deploy {run.previous[:12]} again once it is fixed"
        )
        self._write(run, "failover", END, detail=detail, seconds=took)
        # The release that died is left as bad: no rollback goes forward to it; deploying it
        # again judges it afresh.
        self._write(run, FINISH, END, outcome=machine.DONE, detail=detail, left=True)
        self.progress(Step("failover", "done", took, detail))
        return Result(machine.DONE, holds, detail)

    # -- after a crash ----------------------------------------------------------------------

    def reconcile(self, rollback: bool = False) -> Result | None:
        """Settle the deploy the ledger says was cut short (None when there is none). For a
        `rollback` (one without a target: it judges what it leaves), an interrupted deploy whose
        release is taken out is recorded as rolled back from: a failure, restored, and its
        release bad, so no later rollback goes forward to it."""
        place = self.place
        unfinished = place.state().unfinished
        if not unfinished:
            return None
        first = unfinished[0]
        resolved = [e for e in unfinished if e.step == "resolve" and e.phase == END]
        expected = {}
        if resolved and resolved[0].colour:
            expected[resolved[0].colour] = resolved[0].commit
            if resolved[0].extra.get("from") and resolved[0].previous:
                expected[str(resolved[0].extra["from"])] = resolved[0].previous
        healthy = {colour: self._serves(colour, commit) for colour, commit in expected.items()}
        fix = machine.repair(unfinished, healthy)
        run = Run(first.kind, first.kind, fix.commit or first.commit, self.by, id=first.deploy)
        run.colour = fix.route or ""
        self._write(run, "reconcile", BEGIN, route=fix.route)
        self.progress(Step("reconcile", "started"))
        if fix.route is not None:
            place.switch.route(place.env.name, fix.route, place.env.other(fix.route))
        for colour in fix.remove:
            place.switch.retire(place.env.name, colour)
            place.backend.stop(place.name(colour))
            self._write(replace(run, colour=colour), "remove", END, detail="reconciled")
        outcome = machine.FAILED if fix.failed else machine.RECONCILED
        if fix.route is not None:
            self._write(run, "reconcile", END, detail=fix.detail)
        # The finish names the release the interrupted deploy was for (and whether it was bad).
        finish = replace(run, commit=first.commit)
        rolled_back = (
            rollback
            and first.kind == "deploy"
            and fix.route is not None
            and fix.commit != first.commit
        )
        self._write(
            finish,
            FINISH,
            END,
            outcome=outcome,
            detail=fix.detail,
            bad=fix.bad or rolled_back,
            note={"rolled_back": True} if rolled_back else None,
        )
        self.progress(Step("reconcile", "failed" if fix.failed else "done", 0.0, fix.detail))
        return Result(outcome, run.commit, fix.detail, "reconcile" if fix.failed else None)

    def _serves(self, colour: str, commit: str) -> bool:
        """Whether `colour` is up and serving `commit`."""
        if not self.place.backend.alive(self.place.name(colour)):
            return False
        url = self.place.url(colour)
        try:
            return health.version(url).get("commit") == commit and _answers(url, self.place.env)
        except OSError:
            return False


def _answers(url: str, env: Environment) -> bool:
    try:
        status, _ = health.request(url, "GET", env.health.path)
    except OSError:
        return False
    return status == 200


def _artifact(place: Place, manifest: Manifest) -> Artifact:
    artifact = place.staging.artifact(manifest)
    if place.env.runtime == "docker":
        artifact.require_image()
    else:
        artifact.require_tree()
    return artifact


def _run(kind: str, commit: str, by: str, run_id: str | None) -> Run:
    return Run(kind, kind, commit, by, id=run_id) if run_id else Run(kind, kind, commit, by)


def unfit(manifest: Manifest | None, commit: str, repository: str) -> str | None:
    """Why `commit`'s release cannot be put live (None: it can). Asked before a rollback to a
    named release takes any lock, so a mistyped target never stops a deploy in progress."""
    if manifest is None:
        return (
            f"{commit[:12]} has no staged release in {repository}: stage it with "
            f"`deploybot release {commit[:12]}`"
        )
    if not manifest.accepted:
        return f"the gate did not accept {commit[:12]}: {manifest.verdict}"
    return None


def rollback_target(state: State) -> str | None:
    """What a rollback without a target goes to: while a deploy is unfinished, the release it
    was replacing (a rollback then stops it); otherwise the latest release live before the live
    one that was neither flipped back from nor rolled back from (None when there is none)."""
    replacing = next((e.previous for e in state.unfinished if e.previous), None)
    if state.unfinished and state.unfinished[0].kind == "deploy" and replacing:
        return replacing
    if state.live is None:
        return None
    live = state.live.commit
    earlier = [c for c in state.releases_live() if c != live and c not in state.bad]
    return earlier[-1] if earlier else None


def outcome_of(state: State, run_id: str) -> Result | None:
    """How the run ended, read back from its finish in the ledger (None: it has not)."""
    for deploy in state.deploys:
        for entry in deploy:
            if entry.deploy == run_id and entry.step == FINISH:
                failed = next((e.step for e in deploy if e.phase == FAIL), None)
                step = failed if entry.outcome not in machine.SUCCEEDED else None
                return Result(entry.outcome, entry.commit, entry.detail, step)
    return None


def reassert(env: Environment, state: State, switch: Switch) -> str:
    """Route `env` where its ledger says traffic goes (a flip in progress included), the other
    colour warm if it holds a release and retired if not; what was done, in words."""
    colour = state.route or (state.live.colour if state.live else None)
    if colour is None:
        return f"{env.name}: nothing was ever live; both colours stay out of rotation"
    other = env.other(colour)
    switch.route(env.name, colour, other)
    if state.colours.get(other) is None:
        switch.retire(env.name, other)
    return f"{env.name}: routed to {colour} ({state.colours.get(colour) or '?'})"
