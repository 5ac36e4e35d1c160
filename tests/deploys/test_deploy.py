"""Blue/green deploys as an operator runs them, on each runtime, behind a real HAProxy: the new
release serves on the front, a rollback serves the previous one, a release whose smoke test fails
never receives traffic, and an alert during the bake flips back by itself."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from deploy import health
from tests.deploys.conftest import Deployment, Staged

pytestmark = pytest.mark.slow


@pytest.fixture(params=["process", pytest.param("docker", marks=pytest.mark.docker)])
def runtime(request: pytest.FixtureRequest) -> tuple[str, Staged]:
    staged: Staged = request.getfixturevalue(f"{request.param}_releases")
    return request.param, staged


class FrontWatch:
    """A reader pressing reload on the front the whole time: every answer's commit, and every
    request that failed."""

    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.seen: list[str] = []
        self.failed: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                status, answer = health.request(self.url, "GET", "/version")
                if status == 200 and isinstance(answer, dict):
                    self.seen.append(str(answer["commit"]))
                else:
                    self.failed.append(f"answered {status}")
            except OSError as exc:
                self.failed.append(str(exc))
            time.sleep(0.01)

    def __enter__(self) -> FrontWatch:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def steps_of(deployment: Deployment, finished: str = "finish") -> list[tuple[str, str]]:
    """(step, phase or outcome) of the last deploy in the ledger, ends only."""
    entries = deployment.entries()
    last = entries[-1]["deploy"]
    return [
        (e["step"], e["outcome"] or e["phase"])
        for e in entries
        if e["deploy"] == last and e["phase"] != "begin"
    ]


FirstLive = tuple[Deployment, str, str]


@pytest.fixture
def first_live(runtime: tuple[str, Staged], deployment: Callable[..., Deployment]) -> FirstLive:
    """An environment with the first release deployed: (it, the first, the second release)."""
    kind, staged = runtime
    first, second = staged.commits
    env = deployment(staged, kind)
    env.deploy(first)
    return env, first, second


def test_a_deploy_serves_the_new_release_and_keeps_the_old_one_warm_as_the_spare(
    runtime: tuple[str, Staged], deployment: Callable[..., Deployment]
) -> None:
    kind, staged = runtime
    first, second = staged.commits
    env = deployment(staged, kind)
    assert env.front_serves() is None  # nothing is live yet: the front has no colour routed

    shown = env.deploy(first).stdout
    for step in ("resolve", "start", "health", "smoke", "flip", "bake"):
        assert f"✓ {step} in " in shown
    assert env.front_serves() == first

    with FrontWatch(env.front) as watch:
        env.deploy(second)
    assert env.front_serves() == second
    assert watch.failed == []
    assert watch.seen[0] == first
    assert watch.seen[-1] == second
    assert steps_of(env) == [
        ("resolve", "end"),
        ("start", "end"),
        ("health", "end"),
        ("smoke", "end"),
        ("flip", "end"),
        ("bake", "end"),
        ("finish", "done"),
    ]
    found = env.status()
    assert found["live"]["commit"] == second
    assert found["live"]["colour"] == "green"
    assert found["spare"] == {"colour": "blue", "commit": first}
    assert env.serves("blue") == first  # warm: it still answers on its own port
    assert found["lock"] is None
    assert not found["in_progress"]

    again = env.cli("deploy", second)
    assert again.returncode == 0
    assert "already live" in again.stdout


def test_a_rollback_serves_the_previous_release_warm_or_cold_and_to_any_pinned_one(
    first_live: FirstLive,
) -> None:
    env, first, second = first_live
    env.deploy(second)

    with FrontWatch(env.front) as watch:
        back = env.cli("rollback")
    assert back.returncode == 0, back.stdout + back.stderr
    assert "warm: the spare holds it" in back.stdout
    assert [s for s, _ in steps_of(env)] == ["resolve", "health", "flip", "finish"]
    assert env.front_serves() == first
    assert watch.failed == []

    forward = env.cli("rollback", "--to", second[:10])
    assert forward.returncode == 0, forward.stdout + forward.stderr
    assert env.front_serves() == second

    # The spare is gone (its server died): the rollback redeploys the release, never rebuilds.
    env.signal_colour("blue")
    cold = env.cli("rollback")
    assert cold.returncode == 0, cold.stdout + cold.stderr
    assert "warm" not in cold.stdout.split("\n", 2)[1]
    assert [s for s, _ in steps_of(env)] == [
        "resolve",
        "start",
        "health",
        "smoke",
        "flip",
        "finish",
    ]
    assert env.front_serves() == first
    assert "▶ build" not in cold.stdout


def test_a_release_whose_smoke_test_fails_never_receives_traffic_and_is_removed(
    first_live: FirstLive,
) -> None:
    env, first, second = first_live
    # The environment's smoke test now expects a wrong sentence to be judged correct.
    env.write_config(smoke="Yo hablas español.")

    with FrontWatch(env.front) as watch:
        failed = env.cli("deploy", second)
    assert failed.returncode == 1
    assert "smoke failed" in failed.stderr
    assert "aborted" in failed.stderr
    assert set(watch.seen) == {first}
    assert watch.failed == []
    assert steps_of(env)[-3:] == [("smoke", "fail"), ("remove", "end"), ("finish", "aborted")]
    assert not env.backend().alive(env.colour_name("green"))
    assert env.serves("green") is None
    found = env.status()
    assert found["live"]["commit"] == first
    assert found["spare"] is None


def test_an_alert_during_the_bake_flips_back_by_itself_and_marks_the_release_bad(
    first_live: FirstLive,
) -> None:
    env, first, second = first_live
    env.write_config(bake_s=60)
    before = len(env.entries())
    driving = env.popen("deploy", second)
    env.wait_for_entry(lambda e: e["step"] == "bake" and e["phase"] == "begin", after=before)
    assert env.front_serves() == second

    env.signal_colour("green")
    output, _ = driving.communicate(timeout=120)
    assert driving.returncode == 1, output
    assert "flipped-back: bake failed: alert during the bake" in output
    assert f"{second[:12]} is marked bad" in output
    assert env.front_serves() == first
    assert steps_of(env)[-3:] == [
        ("bake", "fail"),
        ("flip-back", "end"),
        ("finish", "flipped-back"),
    ]
    found = env.status()
    assert found["live"]["commit"] == first
    assert found["bad"] == [second]
    assert not env.backend().alive(env.colour_name("green"))
