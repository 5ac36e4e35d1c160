"""Is a served tutor up, and does it answer as documented? HTTP probes for the gate and deploys."""

from __future__ import annotations

import http.client
import json
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any, Final

PROBE_TIMEOUT_S: Final = 2.0
INTERVAL_S: Final = 0.1
ANSWER_KEYS: Final = frozenset({"verdict", "corrections", "model_version"})
CORRECTION_KEYS: Final = frozenset(
    {"original", "suggestion", "lemma", "tense", "person", "explanation"}
)


@dataclass(frozen=True)
class Check:
    """One named check and what it found, in words."""

    ok: bool
    detail: str


def request(url: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """One request to url+path; (status, decoded JSON or None). OSError when nothing answers."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(
        parts.hostname or "127.0.0.1", parts.port or 80, timeout=PROBE_TIMEOUT_S
    )
    try:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if data is not None else {}
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        payload = response.read()
    except http.client.HTTPException as exc:
        raise OSError(f"{method} {path}: {exc.__class__.__name__}") from exc
    finally:
        connection.close()
    try:
        return response.status, json.loads(payload) if payload else None
    except ValueError:
        return response.status, None


def wait_healthy(
    url: str, path: str = "/healthz", successes: int = 3, timeout_s: float = 30
) -> Check:
    """N consecutive 200s from url+path within timeout_s (a failure starts the count again)."""
    deadline = time.monotonic() + timeout_s
    started, streak, last = time.monotonic(), 0, "no answer yet"
    while time.monotonic() < deadline:
        try:
            status, _ = request(url, "GET", path)
            last = f"answered {status}"
        except OSError as exc:
            status, last = 0, f"unreachable ({exc.__class__.__name__})"
        streak = streak + 1 if status == 200 else 0
        if streak >= successes:
            took = time.monotonic() - started
            return Check(True, f"{successes} consecutive 200s from {path} in {took:.2f} s")
        time.sleep(INTERVAL_S)
    return Check(False, f"{path} gave no {successes} consecutive 200s in {timeout_s:.0f} s: {last}")


def smoke(url: str, sentence: str, expect_verdict: str) -> Check:
    """POST the fixed sentence: the documented JSON shape and the expected verdict."""
    try:
        status, answer = request(url, "POST", "/check", {"sentence": sentence})
    except OSError as exc:
        return Check(False, f"POST /check: unreachable ({exc})")
    if status != 200 or not isinstance(answer, dict):
        return Check(False, f"POST /check answered {status}: {str(answer)[:200]}")
    if set(answer) != ANSWER_KEYS:
        return Check(False, f"POST /check answered the keys {sorted(answer)}")
    corrections = answer["corrections"]
    if not isinstance(corrections, list) or any(
        not isinstance(c, dict) or set(c) != CORRECTION_KEYS for c in corrections
    ):
        return Check(False, "POST /check answered corrections of another shape")
    if answer["verdict"] != expect_verdict:
        return Check(False, f"{sentence!r} was judged {answer['verdict']}, not {expect_verdict}")
    return Check(True, f"{sentence!r} → {answer['verdict']}, in the documented shape")


def version(url: str) -> dict[str, str]:
    """What a served tutor says it is (GET /version); OSError when it cannot say."""
    status, answer = request(url, "GET", "/version")
    if status != 200 or not isinstance(answer, dict):
        raise OSError(f"GET /version answered {status}")
    return {str(k): str(v) for k, v in answer.items()}
