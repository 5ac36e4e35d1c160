"""The workers' pure rules: summary text, retry delays, git URLs, stage env, schedules."""

from __future__ import annotations

from dataclasses import replace
from http import HTTPStatus

import pytest
from celery.schedules import crontab
from gidgethub import BadRequest, GitHubBroken

from core import contract
from core.errors import ConfigError, GitHubRefused, GitHubUnavailable
from core.github_app import backoff_s, translate
from core.names import CI_SUMMARY_MARKER
from core.settings import Settings
from workers.app import beat_schedule
from workers.check_output import Output, completion_bodies
from workers.checkout import clone_url
from workers.ci import messages, summary
from workers.ci.stage_env import stage_env
from workers.worker import retry_delay


def test_summary_lists_stages_in_matrix_order_with_links() -> None:
    rows = {
        "test": summary.row("cancelled", "https://x/3", 3, "blocking stage lint failed"),
        "lint": summary.row("failure", "https://x/1", 1),
        "greet": summary.row("success", None, 0),
    }
    body = summary.render("a" * 40, rows)
    assert body.startswith(CI_SUMMARY_MARKER + "\n")
    assert "`aaaaaaaaaa`: failed" in body
    lines = [line for line in body.splitlines() if line.startswith("| ") and "stage |" not in line]
    assert lines == [
        "| greet | ✅ success |",
        "| [lint](https://x/1) | ❌ failure |",
        "| [test](https://x/3) | 🚫 cancelled (blocking stage lint failed) |",
    ]


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        ((), "not started"),
        (("success", "in_progress"), "running"),
        (("success", "skipped", "neutral"), "passed"),
        (("success", "timed_out"), "failed"),
    ],
)
def test_summary_verdict(states: tuple[str, ...], expected: str) -> None:
    rows = {str(i): summary.row(state, None, i) for i, state in enumerate(states)}
    assert summary.verdict(rows) == expected


def test_a_reason_cannot_break_the_summary_table() -> None:
    body = summary.render("b" * 40, {"x": summary.row("cancelled", None, 0, "a | b\nc")})
    assert "| x | 🚫 cancelled (a \\| b c) |" in body


def test_backoff_doubles_up_to_a_cap() -> None:
    assert [backoff_s(n, 0.5, 3) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def _http_error(status: int, headers: dict[str, str]) -> BadRequest:
    error = BadRequest(HTTPStatus(status))
    error.headers = headers
    return error


def _translated(exc: BadRequest | GitHubBroken) -> Exception:
    return translate(exc, "GET", "/repos/o/r/pulls/1?per_page=100")


def test_github_answers_become_the_exception_tree() -> None:
    broken = _translated(GitHubBroken(HTTPStatus.BAD_GATEWAY))
    assert isinstance(broken, GitHubUnavailable)
    assert str(broken) == "GitHub answered 502 to GET /repos/o/r/pulls/1"
    slow = _translated(_http_error(403, {"retry-after": "7"}))
    assert isinstance(slow, GitHubUnavailable)
    assert slow.retry_after == 7.0
    assert isinstance(_translated(_http_error(429, {})), GitHubUnavailable)
    # A plain 403 is a permission problem: waiting does not help.
    refused = _translated(_http_error(403, {}))
    assert isinstance(refused, GitHubRefused)
    assert refused.status == 403


def test_retries_are_decided_by_type() -> None:
    assert retry_delay(GitHubUnavailable("502"), 0) == 15.0
    assert retry_delay(GitHubUnavailable("502"), 2) == 60.0
    assert retry_delay(GitHubUnavailable("slow down", retry_after=7.0), 0) == 7.0
    assert retry_delay(GitHubRefused("no", 403), 0) is None
    assert retry_delay(ValueError("bug"), 0) is None


def test_clone_url_follows_the_api_host_unless_configured() -> None:
    assert clone_url(Settings(), "o/r") == "https://github.com/o/r.git"
    ghes = Settings(github_api_url="https://ghes.example.com/api/v3")
    assert clone_url(ghes, "o/r") == "https://ghes.example.com/o/r.git"
    assert clone_url(replace(ghes, git_url="file:///srv/{repo}"), "o/r") == "file:///srv/o/r"


def test_stages_never_see_the_workers_secrets() -> None:
    environ = {
        "PATH": "/usr/bin",
        "HOME": "/root",
        "DEPLOYBOT_GITHUB_PRIVATE_KEY": "-----BEGIN RSA PRIVATE KEY-----",
        "DEPLOYBOT_WEBHOOK_SECRET": "s",
        "AWS_SECRET_ACCESS_KEY": "k",
    }
    # Home and temporary files are the sandbox's fresh /tmp, not the worker's.
    assert stage_env(environ) == {
        "PATH": "/usr/bin",
        "HOME": "/tmp",
        "TMPDIR": "/tmp",
        "CI": "true",
    }


def test_beat_runs_the_configured_schedules_and_recovery() -> None:
    settings = Settings(nightly_cron="30 2 * * *", weekly_cron="0 5 * * 1")
    schedule = beat_schedule(settings)
    assert schedule["nightly"]["task"] == schedule["weekly"]["task"] == contract.Scheduled.NAME
    assert contract.Scheduled.from_kwargs(schedule["nightly"]["kwargs"]).trigger == "nightly"
    assert schedule["nightly"]["schedule"] == crontab(minute="30", hour="2")
    assert schedule["weekly"]["schedule"] == crontab(minute="0", hour="5", day_of_week="1")
    assert schedule["recover"]["task"] == contract.Recover.NAME


def test_release_output_fails_on_a_failed_stage_and_batches_annotations() -> None:
    annotation = {"path": "a.py", "start_line": 1, "end_line": 1, "annotation_level": "failure"}
    conclusion, output = messages.release_output(
        "v2.0.0",
        [
            ("build", "success", Output("passed", "ok", [annotation] * 70)),
            ("eval", "failure", Output("failed", "score 0.80 < 0.95", [annotation] * 50)),
        ],
    )
    bodies = completion_bodies(conclusion, output)
    assert [b.get("conclusion") for b in bodies] == ["failure", None, None]
    first = bodies[0]["output"]
    assert isinstance(first, dict)
    assert first["title"] == "v2.0.0: eval failed"
    assert "score 0.80 < 0.95" in first["summary"]
    assert "## build" not in first["summary"]
    sizes = [len(b["output"]["annotations"]) for b in bodies]  # type: ignore[index]
    assert sizes == [50, 50, 20]


def test_worker_settings_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "DEPLOYBOT_GIT_URL": "https://git.example.com/{repo}.git",
            "DEPLOYBOT_NIGHTLY_CRON": "15 1 * * *",
            "DEPLOYBOT_ONCALL_ISSUE": "42",
        }
    )
    assert (settings.git_url, settings.nightly_cron, settings.oncall_issue) == (
        "https://git.example.com/{repo}.git",
        "15 1 * * *",
        42,
    )
    assert settings.weekly_cron == "0 4 * * 0"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEPLOYBOT_GIT_URL", "https://git.example.com/octo/app.git"),
        ("DEPLOYBOT_NIGHTLY_CRON", "every night"),
        ("DEPLOYBOT_ONCALL_ISSUE", "#42"),
    ],
)
def test_malformed_worker_settings_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})
