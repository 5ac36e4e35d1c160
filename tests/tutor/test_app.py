"""The HTTP API: the 4xx table through Starlette's TestClient, and a smoke test through uvicorn."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from testkit.loopback import free_port
from tutor.app import MAX_SENTENCE_CHARS, create_app
from tutor.checker import TableChecker, load_checker

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def checker() -> TableChecker:
    return load_checker("model")


@pytest.fixture
def client(checker: TableChecker) -> Iterator[TestClient]:
    with TestClient(create_app(checker)) as c:
        yield c


def test_check_answers_with_verdict_corrections_and_model_version(
    client: TestClient, checker: TableChecker
) -> None:
    response = client.post("/check", json={"sentence": "Yo sabo la respuesta."})
    assert response.status_code == 200
    body = response.json()
    assert body["verdict"] == "incorrect"
    assert body["model_version"] == checker.model_version
    assert [(c["original"], c["suggestion"]) for c in body["corrections"]] == [("sabo", "sé")]
    assert set(body["corrections"][0]) == {
        "original",
        "suggestion",
        "lemma",
        "tense",
        "person",
        "explanation",
    }


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [
        (b"{not json", "application/json", 400, "not valid JSON"),
        (b"\xff\xfe", "application/json", 400, "not valid JSON"),
        # Hostile but under the size limit: one such request must never be a 5xx (a 5xx
        # during a bake counts against the release).
        (b"[" * 10_000 + b"]" * 10_000, "application/json", 400, "nested too deeply"),
        (b'{"sentence": "x", "n": ' + b"9" * 5000 + b"}", "application/json", 400, "JSON"),
        (b'{"sentence": "Yo hablas \\ud800"}', "application/json", 422, "lone surrogate"),
        (b'["Yo hablo"]', "application/json", 422, "JSON object"),
        (b"{}", "application/json", 422, 'missing field "sentence"'),
        (b'{"sentence": 3}', "application/json", 422, "must be a string"),
        (b'{"sentence": null}', "application/json", 422, 'missing field "sentence"'),
        (b'{"sentence": "   "}', "application/json", 422, "is empty"),
        (
            json.dumps({"sentence": "a" * (MAX_SENTENCE_CHARS + 1)}).encode(),
            "application/json",
            422,
            "the limit is 1000",
        ),
        (b'{"sentence": "Yo hablo."}', "text/plain", 415, "application/json"),
        (b'{"sentence": "Yo hablo."}', "", 415, "application/json"),
        (b" " * 70_000, "application/json", 413, "bytes"),
    ],
)
def test_bad_requests_get_a_4xx_with_a_one_line_message(
    client: TestClient, body: bytes, content_type: str, status: int, message: str
) -> None:
    response = client.post("/check", content=body, headers={"content-type": content_type})
    assert response.status_code == status
    error = response.json()["error"]
    assert message in error
    assert "\n" not in error


def test_a_sentence_of_exactly_the_limit_is_accepted(client: TestClient) -> None:
    response = client.post("/check", json={"sentence": "a" * MAX_SENTENCE_CHARS})
    assert response.status_code == 200


def test_check_only_takes_post(client: TestClient) -> None:
    assert client.get("/check").status_code == 405


def test_version_names_commit_model_and_table(
    client: TestClient, checker: TableChecker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TUTOR_COMMIT", "abc123")
    assert client.get("/version").json() == {
        "commit": "abc123",
        "model_digest": checker.model_version,
        "table_digest": checker.table_digest,
    }
    monkeypatch.delenv("TUTOR_COMMIT")
    assert client.get("/version").json()["commit"] == "unknown"


def test_healthz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok", "checker": "model"}


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """`python -m tutor` on a free loopback port, as the image runs it."""
    port = free_port()
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "TUTOR_COMMIT": "smoke"}
    process = subprocess.Popen(
        [sys.executable, "-m", "tutor"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{url}/healthz", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    _, err = process.communicate(timeout=5)
                    pytest.fail(f"python -m tutor did not start: {err.decode()[-2000:]}")
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.communicate(timeout=10)


def test_end_to_end_through_uvicorn(server: str, checker: TableChecker) -> None:
    with httpx.Client(base_url=server) as http:
        ok = http.post("/check", json={"sentence": "Yo hablo español."})
        assert ok.status_code == 200
        assert ok.json() == {
            "verdict": "correct",
            "corrections": [],
            "model_version": checker.model_version,
        }
        wrong = http.post("/check", json={"sentence": "Ellos tiene hambre."}).json()
        assert wrong["verdict"] == "incorrect"
        assert wrong["corrections"][0]["suggestion"] == "tienen"
        version = http.get("/version").json()
        assert version == {
            "commit": "smoke",
            "model_digest": checker.model_version,
            "table_digest": checker.table_digest,
        }
        bad = http.post("/check", content=b"{", headers={"content-type": "application/json"})
        assert bad.status_code == 400


def test_serving_needs_no_torch() -> None:
    """The app, the checker and the model's forward pass run with torch made unimportable."""
    script = (
        "import sys; sys.modules['torch'] = None\n"
        "from tutor.app import create_app\n"
        "from tutor.checker import load_checker\n"
        "create_app(load_checker('model'))\n"
        "print(load_checker('model').check('Yo sabo la respuesta.').verdict)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "incorrect"
