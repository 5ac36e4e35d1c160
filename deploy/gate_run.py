"""Gather the gate's evidence from the staged artifact itself: start the staged image (by digest),
send it the eval suites over HTTP, run the tutor's own checks inside it, and time it beside the
previous release's image on this machine, in the same run."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, Final

from core.errors import BackendError
from deploy import health, latency
from deploy.backends.base import Artifact, Backend
from deploy.gate import Evidence, Policy
from deploy.health import Check
from deploy.net import free_port

EVAL_TIMEOUT_S: Final = 900
LATENCY_REQUESTS: Final = Path("data/eval/latency_requests.txt")
SMOKE_SENTENCE: Final = "Yo hablo español."
SMOKE_VERDICT: Final = "correct"


@contextmanager
def _serving(backend: Backend, name: str, staged: Artifact) -> Iterator[str]:
    port = free_port()
    backend.start(name, staged, port, {"role": "gate"})
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        backend.stop(name)


def gather(
    new: Artifact, previous: Artifact | None, source: Path, backend: Backend, policy: Policy
) -> Evidence:
    """Everything the gate decides on; what could not be measured says why. `source` is the new
    release's checkout, where the release data is (the suites and the fixed requests)."""
    # Scratch names of this run alone: two stagings at once (two environments, a tag and a
    # /deploy) each serve their own copies, and neither stops the other's.
    name = f"deploybot-gate-{new.commit[:12]}-{uuid.uuid4().hex[:8]}"
    with ExitStack() as stack:
        try:
            url = stack.enter_context(_serving(backend, name, new))
        except BackendError as exc:
            return Evidence(None, f"the staged image did not start: {exc}", {})
        started = health.wait_healthy(url, timeout_s=60)
        if not started.ok:
            logs = backend.logs(name)
            return Evidence(None, f"the staged tutor is not healthy: {started.detail}\n{logs}", {})
        checks = {"end-to-end smoke": health.smoke(url, SMOKE_SENTENCE, SMOKE_VERDICT)}
        checks.update(_selfcheck(backend, name))
        report, error = _eval(url, source, policy.threshold)
        new_ms, old_ms, notes = _latency(stack, backend, previous, source, url, f"{name}-previous")
    return Evidence(report, error, checks, new_ms, old_ms, notes)


def _selfcheck(backend: Backend, name: str) -> dict[str, Check]:
    """The table against its pin and the tokenizer round trip, run beside the staged tutor."""
    code, output = backend.run_module(name, "tutor.selfcheck")
    try:
        found = json.loads(output.strip().splitlines()[-1])
    except (ValueError, IndexError):
        failed = Check(False, f"selfcheck exited {code}: {output.strip()[-300:]}")
        return {"table integrity": failed, "tokenizer round trip": failed}
    table, tokens = found["table"], found["tokenizer"]
    broken = f"lines {tokens.get('broken_lines')} do not round-trip {tokens.get('detail', '')}"
    return {
        "table integrity": Check(
            bool(table["ok"]),
            f"the table hashes to its pin {table.get('digest')}"
            if table["ok"]
            else str(table.get("detail")),
        ),
        "tokenizer round trip": Check(
            bool(tokens["ok"]),
            f"{tokens.get('lines')} corpus lines round-trip exactly" if tokens["ok"] else broken,
        ),
    }


def _eval(url: str, source: Path, threshold: float) -> tuple[dict[str, Any] | None, str | None]:
    """The eval suites of the release's data, sent to the staged tutor (python -m tutor.eval)."""
    with tempfile.TemporaryDirectory(prefix="deploybot-gate-") as tmp:
        report = Path(tmp) / "report.json"
        argv = [sys.executable, "-m", "tutor.eval", "--url", url, "--root", str(source)]
        argv += ["--report", str(report), "--gate-threshold", str(threshold)]
        try:
            done = subprocess.run(  # noqa: S603 - fixed argv: this interpreter's eval
                argv, capture_output=True, text=True, timeout=EVAL_TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired:
            return None, f"the eval took longer than {EVAL_TIMEOUT_S} s"
        if not report.is_file():
            tail = (done.stderr or done.stdout).strip()[-800:]
            return None, f"python -m tutor.eval exited {done.returncode}: {tail}"
        found: dict[str, Any] = json.loads(report.read_text(encoding="utf-8"))
        return found, None


def _latency(
    stack: ExitStack,
    backend: Backend,
    previous: Artifact | None,
    source: Path,
    url: str,
    name: str,
) -> tuple[float | None, float | None, tuple[str, ...]]:
    """p50 of the new release and of the previous one, over the same fixed requests, measured
    side by side now; no figures (and a note why) when there is nothing to measure beside."""
    if previous is None:
        return None, None, ()
    try:
        before = stack.enter_context(_serving(backend, name, previous))
        started = health.wait_healthy(before, timeout_s=60)
    except BackendError as exc:
        started = Check(False, str(exc))
    if not started.ok:
        note = f"latency budget: the previous release could not be served beside: {started.detail}"
        return None, None, (note,)
    sentences = (source / LATENCY_REQUESTS).read_text(encoding="utf-8").splitlines()
    new_ms, old_ms = latency.p50_ms([url, before], sentences)
    return new_ms, old_ms, ()
