"""Check-run bodies: titles that say the result, summaries that fit, annotations in batches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx2
import pytest
from gidgethub import apps
from gidgethub.httpx import GitHubAPI

from testkit.fakegithub.server import FakeGitHub
from workers.check_output import (
    MAX_ANNOTATIONS_PER_REQUEST,
    MAX_TEXT,
    Output,
    cancelled,
    completion_bodies,
    in_progress_body,
    queued_body,
    skipped,
)
from workers.ci.annotations import Annotation
from workers.ci.matrix import Stage
from workers.ci.stage_output import conclusion, stage_output, summary, title
from workers.ci.stage_runner import StageResult
from workers.scrub import scrub_json

LINT = Stage("lint", ("just", "lint"), frozenset({"pr"}), True, (), 120, 10, False)
DOCS = Stage("docs", ("just", "docs"), frozenset({"pr"}), False, ("docs/",), 120, 20, True)


def _result(
    exit_code: int | None = 0,
    *,
    timed_out: bool = False,
    duration_s: float = 12.3,
    tail: str = "All checks passed!",
    annotations: int = 0,
) -> StageResult:
    found = tuple(
        Annotation(f"pkg/m{i // 10}.py", i + 1, i + 1, "failure", f"problem {i}", "ruff F401")
        for i in range(annotations)
    )
    return StageResult(exit_code, timed_out, duration_s, Path("lint.log"), tail, found)


def completed_bodies(stage: Stage, result: StageResult) -> list[dict[str, object]]:
    return completion_bodies(conclusion(stage, result), stage_output(stage, result))


def _output(body: dict[str, object]) -> dict[str, Any]:
    output = body["output"]
    assert isinstance(output, dict)
    return output


def test_queued_and_in_progress_bodies() -> None:
    assert queued_body("lint", "a" * 40, "pipeline-1/lint") == {
        "name": "deploybot/lint",
        "head_sha": "a" * 40,
        "status": "queued",
        "external_id": "pipeline-1/lint",
        "output": {"title": "Queued", "summary": "Waiting for a worker to start this stage."},
    }
    body = in_progress_body("2026-11-26T10:00:00Z")
    assert (body["status"], body["started_at"]) == ("in_progress", "2026-11-26T10:00:00Z")


@pytest.mark.parametrize(
    ("stage", "result", "expected_conclusion", "expected_title"),
    [
        (LINT, _result(0, duration_s=12.3), "success", "passed in 12 s"),
        (LINT, _result(0, duration_s=4.26), "success", "passed in 4.3 s"),
        (LINT, _result(0, duration_s=0.042), "success", "passed in 0.04 s"),
        (LINT, _result(1, annotations=3), "failure", "3 lint problems"),
        (LINT, _result(1, annotations=1), "failure", "1 lint problem"),
        (LINT, _result(2), "failure", "failed with exit code 2"),
        (LINT, _result(None, timed_out=True), "timed_out", "timed out after 120 s"),
        (DOCS, _result(1, annotations=2), "neutral", "2 docs problems (non-blocking)"),
        (DOCS, _result(None, timed_out=True), "timed_out", "timed out after 120 s"),
        (DOCS, _result(0, duration_s=30), "success", "passed in 30 s"),
        # A blocking stage that could not judge (pip-audit without a database) only warns.
        (LINT, _result(78), "neutral", "inconclusive: see the summary"),
    ],
)
def test_conclusion_and_title_say_the_result(
    stage: Stage, result: StageResult, expected_conclusion: str, expected_title: str
) -> None:
    assert conclusion(stage, result) == expected_conclusion
    assert title(stage, result) == expected_title
    (first, *_) = completed_bodies(stage, result)
    assert first["conclusion"] == expected_conclusion
    assert _output(first)["title"] == expected_title


def test_the_summary_has_counts_duration_and_the_log_tail_in_a_fence() -> None:
    result = _result(
        1, duration_s=4.0, tail="pkg/m.py:1:8: F401 unused\nFound 1 error.", annotations=1
    )
    text = summary(LINT, result)
    assert "| command | `just lint` |" in text
    assert "| exit code | 1 |" in text
    assert "| duration | 4.0 s |" in text
    assert "| annotations | 1 failure |" in text
    assert text.endswith("```text\npkg/m.py:1:8: F401 unused\nFound 1 error.\n```")


def test_a_tail_holding_backticks_cannot_close_the_fence() -> None:
    text = summary(LINT, _result(1, tail="before\n````\nafter"))
    assert text.endswith("`````text\nbefore\n````\nafter\n`````")


def test_a_huge_log_is_cut_from_the_start_and_the_fence_stays_closed() -> None:
    tail = "".join(f"line {i:06d} " + "é" * 20 + "\n" for i in range(7000)) + "the end"
    assert len(tail) > 200_000
    text = summary(LINT, _result(1, tail=tail))
    assert MAX_TEXT - 100 < len(text) <= MAX_TEXT
    assert text.endswith("the end\n```")
    assert text.count("```") == 2
    assert "characters cut)" in text


def test_annotations_go_out_fifty_per_request_and_only_the_first_completes() -> None:
    bodies = completed_bodies(LINT, _result(1, annotations=120))
    assert [len(_output(b)["annotations"]) for b in bodies] == [50, 50, 20]
    assert MAX_ANNOTATIONS_PER_REQUEST == 50
    assert [b.get("conclusion") for b in bodies] == ["failure", None, None]
    sent = [a["start_line"] for b in bodies for a in _output(b)["annotations"]]
    assert sent == list(range(1, 121))
    assert all(_output(b)["title"] == "120 lint problems" for b in bodies)


def test_a_stage_without_annotations_sends_one_body_without_the_key() -> None:
    (body,) = completed_bodies(LINT, _result(0))
    assert "annotations" not in _output(body)


def test_secrets_are_scrubbed_from_everything_posted() -> None:
    token = "ghs_" + "A1b2" * 9
    result = StageResult(
        1,
        False,
        1.0,
        Path("x.log"),
        f"cloning https://x-access-token:{token}@github.com/o/r\npassword hunter2-secret",
        (Annotation("a.py", 1, 1, "failure", "saw hunter2-secret here"),),
    )
    bodies = scrub_json(completed_bodies(LINT, result), ["hunter2-secret"])
    posted = repr(bodies)
    assert token not in posted
    assert "hunter2-secret" not in posted
    assert "https://***@github.com/o/r" in posted


def test_skipped_cancelled_and_failure_bodies() -> None:
    assert completion_bodies("skipped", skipped("no change under docs/")) == [
        {
            "conclusion": "skipped",
            "output": {"title": "Skipped", "summary": "no change under docs/"},
        }
    ]
    assert cancelled("superseded by abc1234") == Output("Cancelled", "superseded by abc1234")
    failed = Output("Malformed matrix", "data/ci-matrix.yaml:3: unknown key 'x'")
    assert completion_bodies("failure", failed) == [
        {
            "conclusion": "failure",
            "output": {
                "title": "Malformed matrix",
                "summary": "data/ci-matrix.yaml:3: unknown key 'x'",
            },
        }
    ]
    (body,) = completion_bodies("failure", Output("t", "x" * 100_000 + "the end"))
    cut = _output(body)["summary"]
    assert MAX_TEXT - 10 < len(cut) <= MAX_TEXT
    assert cut.startswith("… (")
    assert cut.endswith("xthe end")


async def test_github_accepts_every_body_for_a_whole_pipeline(
    github: FakeGitHub, tmp_path: Path
) -> None:
    """Posted through gidgethub to the fake GitHub, which validates against GitHub's schema."""
    sha = "d" * 40
    repo = "octo/tutor"
    github.add_repo(repo, installation_id=7)
    big_log = StageResult(1, False, 3.0, tmp_path / "test.log", "é`" * 100_000, ())
    assert len(big_log.log_tail) == 200_000
    finals = {
        "lint": completed_bodies(LINT, _result(1, annotations=120)),
        "test": completed_bodies(LINT, big_log),
        "docs": completion_bodies("skipped", skipped("no change under docs/")),
        "eval": completion_bodies("cancelled", cancelled("superseded by a newer push")),
    }
    async with httpx2.AsyncClient() as http:
        jwt_gh = GitHubAPI(http, "deploybot-tests", base_url=github.url)
        token = await apps.get_installation_access_token(
            jwt_gh,
            installation_id="7",
            app_id=str(github.app_id),
            private_key=github.private_key_pem,
        )
        gh = GitHubAPI(http, "deploybot-tests", oauth_token=token["token"], base_url=github.url)
        for stage, bodies in finals.items():
            run = await gh.post(
                f"/repos/{repo}/check-runs", data=queued_body(stage, sha, f"p1/{stage}")
            )
            url = f"/repos/{repo}/check-runs/{run['id']}"
            await gh.patch(url, data=in_progress_body("2026-11-26T10:00:00Z"))
            for body in bodies:
                await gh.patch(url, data=body)
    runs = {run["name"]: run for run in github.check_runs()}
    assert {name: run["conclusion"] for name, run in runs.items()} == {
        "deploybot/lint": "failure",
        "deploybot/test": "failure",
        "deploybot/docs": "skipped",
        "deploybot/eval": "cancelled",
    }
    assert all(run["history"] == ["queued", "in_progress", "completed"] for run in runs.values())
    assert len(runs["deploybot/lint"]["annotations"]) == 120
    assert len(runs["deploybot/test"]["output"]["summary"]) <= MAX_TEXT
