"""The production install's start-up: seconds from `docker-compose up -d` to every service healthy
(beat: running), the images already built (their build is timed too). Cold is a new install (new
containers, empty volumes); warm is `down` then `up -d` on the volumes the cold one left; each
run beside the cold start of the same run. Needs the Docker engine and docker-compose; builds the
offline images (docker-compose.offline.yml) on the base made here.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from pathlib import Path

from benchmarks.report import Row, table
from deploy import images
from testkit.compose import Stack, make_stack
from testkit.loopback import free_ports

# The receiver starts only with a webhook secret; nothing is delivered to it here.
SECRET = "install-benchmark-secret"  # noqa: S105 - a throwaway value, not a credential


def _deploy_yaml() -> str:
    front, blue, green = free_ports(3)
    return (
        "environments:\n"
        "  bench:\n"
        f"    front: 127.0.0.1:{front}\n"
        f"    colours: {{blue: 127.0.0.1:{blue}, green: 127.0.0.1:{green}}}\n"
        "    runtime: docker\n"
    )


def _timed_up(stack: Stack) -> float:
    started = time.monotonic()
    stack.must("up", "-d")
    stack.wait_healthy()
    return time.monotonic() - started


def main(quick: bool) -> int:
    images.build_base()
    warm: list[float] = []
    with tempfile.TemporaryDirectory(prefix="deploybot-install-bench-") as tmp:
        settings = {"DEPLOYBOT_WEBHOOK_SECRET": SECRET}
        name = f"dbbench{uuid.uuid4().hex[:6]}"
        stack = make_stack(Path(tmp) / "install", name, settings, _deploy_yaml())
        try:
            started = time.monotonic()
            stack.must("build", timeout_s=1800)
            print(f"images built (cached layers reused) in {time.monotonic() - started:.1f} s")
            cold = Row("up -d, cold (new volumes)", [_timed_up(stack)])
            for _ in range(1 if quick else 3):
                stack.must("down")
                warm.append(_timed_up(stack))
        finally:
            stack.down()
    rows = [cold, Row("up -d, warm (after down)", warm)]
    print(table("install: from up -d to every service healthy", rows, cold.name))
    return 0
