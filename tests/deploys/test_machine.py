"""The state machine, the reconcile decision, the bake's alert and the ledger's reading, as the
pure functions they are."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from deploy import machine
from deploy.config import BakeAlert, load_config
from deploy.engine import rollback_target
from deploy.ledger import END, FINISH, Entry, Ledger, read
from deploy.switch.base import Counters, Server

A, B = "a" * 40, "b" * 40


def test_each_plan_walks_its_documented_steps() -> None:
    assert machine.steps("deploy") == ["resolve", "start", "health", "smoke", "flip", "bake"]
    assert machine.steps("rollback") == ["resolve", "start", "health", "smoke", "flip"]
    assert machine.steps("warm-rollback") == ["resolve", "health", "flip"]


@pytest.mark.parametrize("step", ["start", "health", "smoke", "flip"])
def test_a_failure_before_the_bake_removes_the_new_colour(step: str) -> None:
    assert machine.next_step("deploy", step, ok=False) == ("deploy", "remove")
    assert machine.next_step("deploy", "remove", ok=True) == ("deploy", machine.ABORTED)


def test_an_alert_in_the_bake_flips_back_and_a_cold_spare_falls_back_to_a_redeploy() -> None:
    assert machine.next_step("deploy", "bake", ok=False) == ("deploy", "flip-back")
    assert machine.next_step("deploy", "flip-back", ok=True) == ("deploy", machine.FLIPPED_BACK)
    assert machine.next_step("deploy", "flip-back", ok=False) == ("deploy", machine.FAILED)
    assert machine.next_step("deploy", "resolve", ok=False) == ("deploy", machine.FAILED)
    # A warm spare that does not answer: the rest is the cold rollback's path.
    assert machine.next_step("warm-rollback", "health", ok=False) == ("rollback", "start")
    assert machine.next_step("rollback", "flip", ok=True) == ("rollback", machine.DONE)


def entry(step: str, phase: str = END, **fields: Any) -> Entry:
    values: dict[str, Any] = {"deploy": "d1", "kind": "deploy", "commit": B, **fields}
    return Entry(step=step, phase=phase, **values)


RESOLVED = entry("resolve", colour="green", previous=A, extra={"from": "blue", "warm": False})


def test_a_deploy_cut_short_goes_back_to_the_release_it_was_replacing() -> None:
    fix = machine.repair([RESOLVED, entry("start", colour="green")], {"blue": True, "green": True})
    assert (fix.route, fix.commit, fix.remove) == ("blue", A, ("green",))
    assert "not trusted" in fix.detail
    assert not fix.failed


def test_it_keeps_the_new_release_only_when_the_old_one_is_not_healthy() -> None:
    fix = machine.repair([RESOLVED], {"blue": False, "green": True})
    assert (fix.route, fix.commit, fix.remove) == ("green", B, ())
    nothing = machine.repair([RESOLVED], {"blue": False, "green": False})
    assert nothing.route is None
    assert nothing.failed


def test_a_flip_back_cut_short_is_finished_and_the_release_stays_bad() -> None:
    judged = [RESOLVED, entry("bake", "fail", colour="green"), entry("flip-back", "begin")]
    fix = machine.repair(judged, {"blue": True, "green": True})
    assert (fix.route, fix.remove, fix.bad) == ("blue", ("green",), True)
    # With the old colour gone as well, the bad release is not put back.
    assert machine.repair(judged, {"blue": False, "green": True}).failed


def test_a_rollback_cut_short_is_completed_and_a_warm_spare_is_never_removed() -> None:
    rollback = entry(
        "resolve",
        kind="rollback",
        commit=A,
        colour="blue",
        previous=B,
        extra={"from": "green", "warm": True},
    )
    fix = machine.repair([rollback], {"blue": True, "green": True})
    assert (fix.route, fix.commit, fix.remove) == ("blue", A, ())
    spare_dead = machine.repair([rollback], {"blue": False, "green": True})
    assert (spare_dead.route, spare_dead.remove) == ("green", ())
    cold = [rollback, entry("start", kind="rollback", commit=A, colour="blue")]
    assert machine.repair(cold, {"blue": False, "green": True}).remove == ("blue",)


def test_nothing_to_repair_when_the_deploy_never_resolved() -> None:
    fix = machine.repair([entry("resolve", "begin")], {})
    assert (fix.route, fix.remove, fix.failed) == (None, (), False)


def test_the_bake_alerts_on_failed_probes_a_down_server_and_an_error_rate() -> None:
    policy = BakeAlert(error_rate=0.05, min_requests=20)
    before = Counters(5, 1, 0, 100)
    assert machine.bake_alert(before, before, up=True, failed_probes=1, policy=policy) is None
    assert "2 health probes" in (machine.bake_alert(before, before, True, 2, policy) or "")
    assert "health checks took it out" in (
        machine.bake_alert(before, before, False, 0, policy) or ""
    )
    # One request, 5xx or not: no rate to judge yet (one client cannot veto a release).
    assert machine.bake_alert(before, Counters(6, 1, 0, 101), True, 0, policy) is None
    # 1 error in 20 is the threshold itself, not over it.
    assert machine.bake_alert(before, Counters(6, 1, 0, 120), True, 0, policy) is None
    grew = machine.bake_alert(
        before, Counters(7, 1, 1, 120), up=True, failed_probes=0, policy=policy
    )
    assert grew is not None
    assert "14.3% of 21 requests since the flip failed (over 5.0%)" in grew
    assert "2 5xx responses, 0 connection errors and 1 response errors" in grew


def test_the_ledger_reads_live_spare_route_unfinished_and_bad() -> None:
    first = [
        Entry("d0", "deploy", "resolve", END, A, colour="blue"),
        Entry("d0", "deploy", "start", END, A, colour="blue"),
        Entry("d0", "deploy", "flip", "begin", A, colour="blue", route="blue"),
        Entry("d0", "deploy", "flip", END, A, colour="blue"),
        Entry("d0", "deploy", FINISH, END, A, outcome="done"),
    ]
    second = [
        Entry("d1", "deploy", "start", END, B, colour="green", previous=A),
        Entry("d1", "deploy", "flip", "begin", B, colour="green", route="green", previous=A),
    ]
    state = read(first + second)
    assert state.live is not None
    assert (state.live.commit, state.live.colour) == (A, "blue")
    assert state.route == "green"  # a flip in progress: where a restarted switch must go
    assert [e.step for e in state.unfinished] == ["start", "flip"]
    back = [
        Entry("d1", "deploy", "flip", END, B, colour="green", previous=A),
        Entry("d1", "deploy", "flip-back", END, B, colour="green", route="blue", previous=A),
        Entry("d1", "deploy", FINISH, END, B, outcome="flipped-back", extra={"bad": True}),
    ]
    state = read(first + second + back)
    assert state.live is not None
    assert (state.live.commit, state.live.colour) == (A, "blue")
    assert state.colours == {"blue": A, "green": None}
    assert state.spare is None
    assert state.bad == frozenset({B})
    assert state.unfinished == []
    assert state.releases_live() == [B, A]


def test_a_line_cut_short_by_a_crash_is_skipped_and_the_next_one_kept(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path, "prod")
    ledger.append(Entry("d0", "deploy", "resolve", "begin", A))
    with ledger.path.open("a") as out:
        out.write('{"deploy": "d0", "kind": "dep')
    ledger.append(Entry("d0", "deploy", "resolve", "fail", A))
    assert [e.phase for e in ledger.entries()] == ["begin", "fail"]


def _went_live(
    run: str, kind: str, commit: str, previous: str | None, colour: str, **extra: Any
) -> list[Entry]:
    return [
        Entry(run, kind, "flip", END, commit, colour=colour, previous=previous),
        Entry(run, kind, FINISH, END, commit, previous=previous, outcome="done", extra=extra),
    ]


C = "c" * 40


def test_a_rollback_never_goes_back_to_what_was_just_rolled_back_from() -> None:
    history = (
        _went_live("d1", "deploy", A, None, "blue")
        + _went_live("d2", "deploy", B, A, "green")
        + _went_live("d3", "deploy", C, B, "blue")
        + _went_live("r1", "rollback", B, C, "green", left_bad=True)
    )
    state = read(history)
    assert state.bad == frozenset({C})
    # Two people rolling back one after the other: the second goes further back, not to C.
    assert rollback_target(state) == A
    # C deployed again (a fix, or a deliberate retry) is judged afresh.
    again = read([*history, *_went_live("d4", "deploy", C, B, "blue")])
    assert again.bad == frozenset()
    assert rollback_target(again) == B
    # A rollback to a release someone named (forward again, say) judges nothing.
    named = read([*history[:-2], *_went_live("r1", "rollback", B, C, "green")])
    assert named.bad == frozenset()


def test_a_rollback_during_a_deploy_goes_to_the_release_that_deploy_was_replacing() -> None:
    history = _went_live("d1", "deploy", A, None, "blue") + _went_live(
        "d2", "deploy", B, A, "green"
    )
    at_health = [
        Entry("d3", "deploy", "resolve", END, C, colour="blue", previous=B),
        Entry("d3", "deploy", "health", "begin", C, colour="blue", previous=B),
    ]
    # Not A (two releases back): B, which still serves, and the rollback stops C's deploy.
    assert rollback_target(read(history + at_health)) == B
    baking = [
        *at_health,
        Entry("d3", "deploy", "flip", END, C, colour="blue", previous=B),
        Entry("d3", "deploy", "bake", "begin", C, colour="blue", previous=B),
    ]
    assert rollback_target(read(history + baking)) == B


def test_the_switch_disagrees_only_where_its_servers_are_not_the_colours() -> None:
    env = load_config(
        "environments:\n  prod:\n    front: 127.0.0.1:8080\n"
        "    colours: {blue: 127.0.0.1:8081, green: localhost:8082}\n"
    ).environment("prod")

    def server(colour: str, address: str) -> Server:
        return Server(colour, "ready", True, 0, Counters(), address)

    agree = {"blue": server("blue", "127.0.0.1:8081"), "green": server("green", "127.0.0.1:8082")}
    assert machine.disagreement(env, agree) is None  # localhost resolved by HAProxy: the same
    moved = {**agree, "blue": server("blue", "127.0.0.1:9081")}
    said = machine.disagreement(env, moved) or ""
    assert "it sends blue to 127.0.0.1:9081, deploy.yaml to 127.0.0.1:8081" in said
    other_host = {**agree, "blue": server("blue", "127.0.0.2:8081")}
    assert machine.disagreement(env, other_host) is not None
    assert "it has no server green" in (machine.disagreement(env, {"blue": agree["blue"]}) or "")
