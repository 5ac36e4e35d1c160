"""Traffic under faults, measured by the deploy benchmark's load client on the process runtime
behind `deploybot proxy` (HAProxy), each beside its target:

- the live colour SIGKILLed outside any deploy: seconds until the warm spare first answers
  through the front, and until the proxy's watcher has routed to it (target < 5 s), and the
  requests that failed meanwhile;
- one malformed request (10 KB of nested brackets) sent through the front during a bake: the
  status it gets (4xx) and how the deploy ends (done, never flipped back);
- HAProxy SIGKILLed mid-bake, then started again as a supervisor would: whether the ledger and
  the switch agree afterwards, and the requests the next deploy fails (target 0).

Needs HAProxy; Redis (the lock) is an in-process fake on loopback.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from benchmarks.deploy import Environment, stage_two
from deploy.release import Staging
from deploy.switch.haproxy import HAProxy, Paths
from testkit.load import Load, post_check
from testkit.loopback import fake_redis

FAILOVER_TARGET_S: Final = 5.0
NESTED: Final = b"[" * 10_000 + b"]" * 10_000
BAKE_S: Final = 6.0


def _kill_colour(env: Environment, colour: str) -> None:
    record = json.loads((env.root / "data/run" / f"deploybot-bench-{colour}.json").read_text())
    os.killpg(int(record["pid"]), signal.SIGKILL)


def _ledger(env: Environment) -> list[dict[str, Any]]:
    lines = (env.root / "data/ledger/bench.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _at_bake(env: Environment, before: int) -> None:
    """Until the running deploy begins its bake."""
    deadline = time.monotonic() + 120
    while not any(e["step"] == "bake" and e["phase"] == "begin" for e in _ledger(env)[before:]):
        if time.monotonic() > deadline:
            raise RuntimeError("the deploy never reached its bake")
        time.sleep(0.02)


def _status(env: Environment) -> dict[str, Any]:
    done = subprocess.run(  # noqa: S603 - this interpreter's deploybot
        [*env.command("status", "--json"), "--repository", "bench/tutor"],
        capture_output=True,
        text=True,
        env=env.env,
        check=True,
    )
    found: dict[str, Any] = json.loads(done.stdout)[0]
    return found


def _failover(env: Environment, first: str) -> dict[str, Any]:
    """The live colour (green, the second release) dies; blue (the first) is the warm spare."""
    load = Load(env.front)
    before = len(_ledger(env))
    with load.running():
        time.sleep(1)
        killed, killed_at = time.monotonic(), datetime.now(UTC)
        _kill_colour(env, "green")
        while _failover_end(env, before) is None and time.monotonic() - killed < 30:
            time.sleep(0.05)
        time.sleep(0.5)
    routed = _failover_end(env, before)
    return {
        "served_s": load.first(first, killed),
        "failover_s": (routed - killed_at).total_seconds() if routed else None,
        "failover_failed": load.failures,
    }


def _failover_end(env: Environment, before: int) -> datetime | None:
    """When the watcher's failover routed to the spare (its ledger entry), if it has."""
    for entry in _ledger(env)[before:]:
        if entry["step"] == "failover" and entry["phase"] == "end":
            return datetime.fromisoformat(entry["at"])
    return None


def _malformed(env: Environment, second: str, repo: Path) -> dict[str, Any]:
    before = len(_ledger(env))
    deploying = env.start("deploy", second, repo=repo)
    _at_bake(env, before)
    status = post_check(env.front, NESTED)
    deploying.communicate(timeout=300)
    return {"malformed_status": status, "malformed_outcome": _ledger(env)[-1]["outcome"]}


def _haproxy_killed(env: Environment, first: str, second: str, repo: Path) -> dict[str, Any]:
    before = len(_ledger(env))
    deploying = env.start("deploy", first, repo=repo)
    _at_bake(env, before)
    switch = HAProxy(Paths(env.root / "data/haproxy"))
    os.kill(int(switch.command("show info").split("Pid: ")[1].split()[0]), signal.SIGKILL)
    deploying.communicate(timeout=300)
    if env.proxy is not None:
        env.proxy.wait(timeout=30)  # `deploybot proxy` exits with its HAProxy ...
    env.start_proxy()  # ... and its supervisor starts it again
    found = _status(env)
    agree = found["switch"]["disagrees"] is None and found["switch"]["error"] is None
    load = Load(env.front)
    with load.running():
        time.sleep(0.5)
        env.run("deploy", second, repo=repo)
        time.sleep(0.5)
    return {
        "agree": agree,
        "routes": found["switch"]["routes"],
        "live": found["live"]["colour"] if found["live"] else None,
        "next_sent": len(load.answers) + len(load.failures),
        "next_failed": load.failures,
    }


def _measure(tmp: Path, redis_url: str) -> dict[str, Any]:
    staged, first, second, repo = stage_two(tmp, Staging(tmp / "staged"))
    env = Environment.beside(tmp / "faults", staged, "process", redis_url, BAKE_S)
    with env.proxied():
        env.run("deploy", first, repo=repo)
        env.run("deploy", second, repo=repo)
        found = _failover(env, first)
        found.update(_malformed(env, second, repo))
        found.update(_haproxy_killed(env, first, second, repo))
    return found


def _show(found: dict[str, Any]) -> int:
    failover, served = found["failover_s"], found["served_s"]

    def seconds(value: float | None) -> str:
        return f"{value:.2f} s" if value is not None else "never"

    print(
        f"live colour SIGKILLed outside a deploy: the spare first answered after "
        f"{seconds(served)}; the watcher routed to it after {seconds(failover)} (target < "
        f"{FAILOVER_TARGET_S:.0f} s); {len(found['failover_failed'])} requests failed"
    )
    for failure in found["failover_failed"][:5]:
        print(f"  failed: {failure}")
    print(
        f"one malformed request during the bake: answered {found['malformed_status']}; "
        f"the deploy ended {found['malformed_outcome']}"
    )
    print(
        f"HAProxy SIGKILLed mid-bake, then restarted: the switch routes to {found['routes']}, "
        f"the ledger has {found['live']} live ({'agree' if found['agree'] else 'DISAGREE'}); "
        f"the next deploy: {found['next_sent']} requests, {len(found['next_failed'])} failed"
    )
    for failure in found["next_failed"][:5]:
        print(f"  failed: {failure}")
    ok = failover is not None and failover < FAILOVER_TARGET_S
    ok = ok and 400 <= found["malformed_status"] < 500 and found["malformed_outcome"] == "done"
    ok = ok and found["agree"] and found["next_sent"] > 0 and not found["next_failed"]
    print(f"faults: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


def main(quick: bool) -> int:
    print("== faults: the live colour killed, a malformed request, HAProxy killed mid-bake ==")
    with (
        tempfile.TemporaryDirectory(prefix="deploybot-bench-faults-") as directory,
        fake_redis() as redis_url,
    ):
        return _show(_measure(Path(directory), redis_url))
