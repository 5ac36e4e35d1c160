"""`/metrics` of a real `deploybot serve`, on its status listener (never the webhook's port), adds
up its own deliveries, the jobs of a real `deploybot worker` (its prefork pool processes), and the
DORA figures of the ledgers; a worker killed outright loses none of what it counted."""

from __future__ import annotations

import os
import signal
import struct
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager as ContextManager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from subprocess import Popen

import httpx
import pytest
import redis
from prometheus_client import CollectorRegistry

from core import telemetry
from core.contract import RecordPush
from core.settings import Settings
from deploy.ledger import END, FINISH, Entry, Ledger
from testkit.loopback import free_port
from tests.bot.conftest import encode, example, headers_for
from tests.conftest import Samples, metric_samples, run_deploybot, sample
from tests.workers.harness import process_group

JOBS = "deploybot_jobs_total"


def deploybot(settings: Settings, log: Path, *args: str) -> ContextManager[Popen[bytes]]:
    return process_group([sys.executable, "-m", "deploybot", *args], settings, log)


def scrape(url: str) -> Samples:
    return metric_samples(httpx.get(f"{url}/metrics", timeout=10).text)


def serving(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def jobs(url: str) -> float | None:
    return sample(scrape(url), JOBS, task=RecordPush.NAME, outcome="succeeded")


def wait_for(what: str, ready: Callable[[], bool], log: Path, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not ready():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}; the processes said:\n{log.read_text(errors='replace')[-4000:]}")
        time.sleep(0.2)


def deliver(url: str, push: int) -> None:
    """A push to the default branch (each `push` a new commit): one cheap job for a worker."""
    payload = example("push/with-new-branch.payload.json")
    payload["after"] = f"{push:040x}"
    body = encode(payload)
    headers = headers_for("push", body, str(uuid.uuid4()))
    answer = httpx.post(f"{url}/webhook", content=body, headers=headers, timeout=10)
    assert answer.status_code == 202, answer.text


def test_serve_adds_up_the_worker_processes_and_the_ledgers(
    settings: Settings, redis_client: redis.Redis, tmp_path: Path
) -> None:
    now = datetime.now(UTC).isoformat()
    commit = "a" * 40
    ledger = Ledger(settings.data_dir / "ledger", "production")
    for entry in (
        Entry("d1", "deploy", "flip", END, commit, colour="blue", at=now),
        Entry("d1", "deploy", FINISH, END, commit, outcome="done", at=now),
    ):
        ledger.append(entry)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    status = f"http://{settings.status_addr}"
    log = tmp_path / "processes.log"
    with deploybot(settings, log, "serve", "--port", str(port)):
        with deploybot(settings, log, "worker", "--concurrency", "2") as worker:
            wait_for("serve did not start", lambda: serving(url) and serving(status), log)
            deliver(url, 1)
            deliver(url, 2)
            wait_for(
                "the worker's two jobs never reached serve's /metrics",
                lambda: jobs(status) == 2,
                log,
            )
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
        assert jobs(status) == 2  # what the dead worker counted stays counted
        with deploybot(settings, log, "worker", "--concurrency", "1"):
            deliver(url, 3)
            wait_for(
                "a new worker's job did not add to the dead one's",
                lambda: jobs(status) == 3,
                log,
            )
        found = scrape(status)
        # The webhook's port faces the internet: nothing there tells commits or people.
        for path in ("/metrics", "/", "/api/status"):
            assert httpx.get(f"{url}{path}", timeout=10).status_code == 404, path
        assert httpx.get(f"{status}/api/status", timeout=10).json()["environments"]
    assert sample(found, "deploybot_webhook_deliveries_total", event="push", outcome="queued") == 3
    assert sample(found, "deploybot_webhook_enqueue_seconds_count") == 3
    assert sample(found, "deploybot_job_seconds_bucket", task=RecordPush.NAME, le="+Inf") == 3
    week = {"environment": "production", "window": "7d"}
    assert sample(found, "deploybot_dora_deploys", **week) == 1
    assert sample(found, "deploybot_dora_change_failure_ratio", **week) == 0
    # No commit time in this ledger: no lead time is made up.
    assert sample(found, "deploybot_dora_lead_time_seconds", **week) is None


def test_a_damaged_file_is_left_out_and_named_not_a_failed_scrape(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    shared = tmp_path / "metrics"
    counted = (
        "from pathlib import Path; from core import telemetry; telemetry.share(Path(%r)); "
        "from workers.metrics import worker_metrics; "
        "worker_metrics().flips.labels('p', 'deploy').inc()"
    )
    for _ in range(2):  # two processes, two files
        subprocess.run([sys.executable, "-c", counted % str(shared)], check=True, timeout=60)
    (shared / "counter_999999.db").write_bytes(b"")  # its process died as it made it
    (shared / "histogram_999998.db").write_bytes(b"\xff" * 3)
    # A header saying 16 bytes are used, then an entry claiming a megabyte.
    oversized = struct.pack("i", 16) + bytes(4) + struct.pack("i", 1 << 20) + bytes(4)
    (shared / "counter_999997.db").write_bytes(oversized)
    monkeypatch.setenv(telemetry.SHARED_ENV, str(shared))

    found = metric_samples(telemetry.exposition(CollectorRegistry()).decode())

    assert sample(found, "deploybot_flips_total", environment="p", kind="deploy") == 2
    assert "counter_999999.db left out of /metrics" in caplog.text
    assert "histogram_999998.db left out of /metrics" in caplog.text
    assert "counter_999997.db left out of /metrics" in caplog.text
    assert "file is corrupted" in caplog.text


def test_a_metric_that_cannot_be_recorded_never_fails_the_work(tmp_path: Path) -> None:
    shared = tmp_path / "metrics"
    script = (
        "import shutil; from pathlib import Path; from core import telemetry\n"
        f"telemetry.share(Path({str(shared)!r}))\n"
        "from workers.metrics import WorkerMetrics\n"
        "metrics = WorkerMetrics()\n"
        f"shutil.rmtree({str(shared)!r})  # an operator tidies the data directory\n"
        "with metrics.job('workers.deploys.run'):\n"
        "    metrics.deploy_step('production', 'deploy', 'flip', 'done', 0.01)\n"
        "print('the job went on')\n"
    )

    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout == "the job went on\n"
    assert "metrics: a figure went unrecorded (FileNotFoundError" in done.stderr


def test_serve_refuses_to_start_when_it_cannot_keep_metrics(
    settings: Settings, tmp_path: Path
) -> None:
    taken = tmp_path / "a-file"
    taken.write_text("not a directory")
    env = replace(settings, data_dir=taken).child_environ()

    done = run_deploybot("serve", "--port", str(free_port()), env=env)

    assert done.returncode == 1
    assert f"cannot write metrics to {taken / 'metrics'}" in done.stderr
    assert "make it writable by this user" in done.stderr
