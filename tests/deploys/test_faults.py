"""The process driving a deploy is killed (SIGKILL) in each state of the machine in turn; after
the reconcile that the next command runs, traffic is on a healthy release, the lock is free and
the ledger tells the truth."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.deploys.conftest import LEASE_S, Deployment, Staged

pytestmark = pytest.mark.slow

# state -> the deploy.yaml options that make the deploy reach it
STATES: dict[str, dict[str, Any]] = {
    "resolve": {},
    "start": {},
    "health": {},
    "smoke": {},
    "flip": {},
    "bake": {"bake_s": 30},
    "remove": {"smoke": "Yo hablas español."},
    "flip-back": {"bake_s": 30},
}


@pytest.mark.parametrize("state", list(STATES))
def test_a_deploy_killed_in_any_state_is_reconciled_to_a_healthy_release(
    state: str, process_releases: Staged, deployment: Callable[..., Deployment]
) -> None:
    first, second = process_releases.commits
    env = deployment(process_releases, "process")
    env.deploy(first)
    env.write_config(**STATES[state])
    before = len(env.entries())

    driving = env.popen("deploy", second)
    if state == "flip-back":
        env.wait_for_entry(lambda e: e["step"] == "bake" and e["phase"] == "begin", after=before)
        # Hung, not dead: the bake's probes time out and the flip-back's stop of the colour
        # waits for it, long enough to be killed there (a dead colour is flipped back from in
        # milliseconds, before any killer could look).
        env.signal_colour("green", signal.SIGSTOP)
    env.wait_for_entry(lambda e: e["step"] == state and e["phase"] == "begin", after=before)
    driving.kill()
    driving.communicate()
    assert env.status()["lock"] is not None  # the dead holder's lease has not lapsed yet

    time.sleep(LEASE_S + 0.5)
    # The first command after the lease lapsed reconciles, or the proxy's watcher does first
    # when the colour HAProxy routes to is down (the hung green): then wait for it to finish.
    found = env.status()
    deadline = time.monotonic() + 60
    while found["lock"] is not None and found["lock"]["kind"] == "failover":
        assert time.monotonic() < deadline, found["lock"]
        time.sleep(0.2)
        found = env.status()

    assert found["lock"] is None
    assert not found["in_progress"]
    live = found["live"]
    # A deploy cut short is not trusted: the release it was replacing serves again.
    assert live["commit"] == first
    assert env.front_serves() == first
    assert env.serves(live["colour"]) == first
    for colour, seen in found["colours"].items():
        assert seen["holds"] == seen["serves"], (colour, seen)  # the ledger says what runs
    assert env.serves("green") is None
    assert found["last"][-1]["outcome"] == "reconciled"
    if state == "flip-back":
        assert found["bad"] == [second]

    # And the environment works: the same release deploys cleanly now.
    env.write_config()
    env.deploy(second)
    assert env.front_serves() == second
