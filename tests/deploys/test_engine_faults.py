"""Whatever a runtime raises inside a step is that step's failure: the run takes its failure path
and the ledger gets its end, never a traceback that leaves a run half-written."""

from __future__ import annotations

from pathlib import Path

from deploy.config import load_config
from deploy.engine import Engine, Place
from deploy.ledger import FAIL, FINISH, Ledger
from deploy.release import Staging
from deploy.switch.embedded import serving
from testkit.loopback import free_port
from tests.deploys.conftest import NothingServes, Staged


def test_an_unplanned_error_in_a_step_ends_the_run_in_the_ledger(
    process_releases: Staged, tmp_path: Path
) -> None:
    first, _ = process_releases.commits
    config = load_config(
        "environments:\n  faults:\n"
        f"    front: 127.0.0.1:{free_port()}\n"
        f"    colours: {{blue: 127.0.0.1:{free_port()}, green: 127.0.0.1:{free_port()}}}\n"
        "    runtime: process\n    switch: embedded\n"
    )
    env = config.environment("faults")
    ledger = Ledger(tmp_path, env.name)
    with serving(config) as switch:
        place = Place(
            env,
            ledger,
            NothingServes(lambda name, port: ValueError(f"invalid port {port} for {name}")),
            switch,
            Staging(process_releases.data),
            "octo/tutor",
        )
        result = Engine(place, lambda _: None, "tester").deploy(first)

    assert (result.outcome, result.step) == ("aborted", "start")
    assert "ValueError: invalid port" in result.detail
    entries = ledger.entries()
    assert [(e.step, e.phase) for e in entries if e.phase == FAIL] == [("start", FAIL)]
    assert entries[-1].step == FINISH
    assert entries[-1].outcome == "aborted"
