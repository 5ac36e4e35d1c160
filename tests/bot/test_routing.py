"""Each event family's decision, seen through the real receiver: which job, with what data."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
import redis
from starlette.testclient import TestClient

from core import contract
from core.names import DEPLOY_CHECK, ROLLBACK_ACTION
from core.settings import Settings
from tests.bot.conftest import Message, encode, example, headers_for, queued_messages

SYNC = example("pull_request/synchronize.payload.json")
SHA = SYNC["pull_request"]["head"]["sha"]
REPO = SYNC["repository"]["full_name"]


def post(client: TestClient, event: str, payload: dict[str, Any]) -> tuple[int, str]:
    body = encode(payload)
    response = client.post("/webhook", content=body, headers=headers_for(event, body))
    return response.status_code, response.text.strip()


def only_job(client: redis.Redis) -> Message:
    (message,) = queued_messages(client)
    return message


def pr_comment(text: str, *, user_type: str = "User", action: str = "created") -> dict[str, Any]:
    payload = copy.deepcopy(example("issue_comment/created.with-installation.payload.json"))
    payload["action"] = action
    payload["issue"]["pull_request"] = {"url": "https://api.github.com/repos/x/y/pulls/1"}
    payload["comment"]["body"] = text
    payload["comment"]["user"]["type"] = user_type
    payload["comment"]["created_at"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return payload


def test_a_release_tag_push_starts_a_release(client: TestClient, redis_client: redis.Redis) -> None:
    payload = copy.deepcopy(example("push/with-new-branch.payload.json"))
    payload["ref"] = "refs/tags/v1.2.0"
    assert post(client, "push", payload)[0] == 202
    job = only_job(redis_client)
    assert job.task == contract.RunRelease.NAME
    assert (job.kwargs["tag"], job.kwargs["sha"]) == ("v1.2.0", payload["after"])
    assert job.kwargs["default_branch"] == payload["repository"]["default_branch"]


@pytest.mark.parametrize(
    ("ref", "reason"),
    [
        ("refs/tags/simple-tag", "neither a v* tag nor the default branch"),
        ("refs/heads/feature", "neither a v* tag nor the default branch"),
    ],
)
def test_other_pushes_are_ignored(
    ref: str, reason: str, client: TestClient, redis_client: redis.Redis
) -> None:
    payload = copy.deepcopy(example("push/with-new-branch.payload.json"))
    payload["ref"] = ref
    status, text = post(client, "push", payload)
    assert (status, reason in text) == (202, True)
    assert queued_messages(redis_client) == []


def test_a_merged_pull_request_queues_nothing(
    client: TestClient, redis_client: redis.Redis
) -> None:
    """/deploy asks GitHub for the merge commit when it runs: the merge itself needs no job."""
    payload = copy.deepcopy(example("pull_request/closed.payload.json"))
    payload["pull_request"]["merged"] = True
    status, said = post(client, "pull_request", payload)
    assert status == 202
    assert (
        said
        == "ignored: a closed pull request needs nothing: /deploy asks GitHub for its merge commit"
    )
    assert queued_messages(redis_client) == []


@pytest.mark.parametrize(("run_on_draft", "jobs"), [(True, 1), (False, 0)])
def test_draft_pull_requests_follow_the_setting(
    run_on_draft: bool,
    jobs: int,
    settings: Settings,
    make_client: Callable[..., TestClient],
    redis_client: redis.Redis,
) -> None:
    client = make_client(replace(settings, run_on_draft=run_on_draft))
    payload = copy.deepcopy(SYNC)
    payload["pull_request"]["draft"] = True
    assert post(client, "pull_request", payload)[0] == 202
    assert len(queued_messages(redis_client)) == jobs


def test_a_check_suite_for_a_commit_already_queued_starts_no_second_pipeline(
    client: TestClient, redis_client: redis.Redis
) -> None:
    suite = copy.deepcopy(example("check_suite/requested.payload.json"))
    suite["check_suite"]["head_sha"] = SHA
    suite["check_suite"]["pull_requests"] = [{"number": 2}]
    suite["repository"]["id"] = SYNC["repository"]["id"]
    assert post(client, "pull_request", SYNC)[0] == 202
    assert post(client, "check_suite", suite) == (200, "duplicate event")
    assert only_job(redis_client).task == contract.RunPipeline.NAME


def test_rerunning_one_of_our_check_runs_reruns_its_stage(
    client: TestClient, redis_client: redis.Redis
) -> None:
    payload = copy.deepcopy(example("check_run/rerequested.payload.json"))
    payload["check_run"]["name"] = "deploybot/test"
    assert post(client, "check_run", payload)[0] == 202
    job = only_job(redis_client)
    assert job.task == contract.Rerun.NAME
    assert (job.kwargs["scope"], job.kwargs["stage"]) == ("stage", "test")
    assert job.kwargs["check_run_id"] == payload["check_run"]["id"]


def test_the_rollback_button_asks_for_a_rollback_once(
    client: TestClient, redis_client: redis.Redis
) -> None:
    payload = copy.deepcopy(example("check_run/requested_action.payload.json"))
    payload["check_run"]["name"] = DEPLOY_CHECK
    payload["requested_action"]["identifier"] = ROLLBACK_ACTION
    assert post(client, "check_run", payload)[0] == 202
    assert post(client, "check_run", payload) == (200, "duplicate event")
    job = only_job(redis_client)
    assert job.task == contract.CheckRunAction.NAME
    assert (job.kwargs["action"], job.kwargs["sender"]) == ("rollback", payload["sender"]["login"])


def test_a_deploy_comment_becomes_a_command_job(
    client: TestClient, redis_client: redis.Redis
) -> None:
    payload = pr_comment("Looks good.\n\n/DEPLOY production\n/rollback")
    assert post(client, "issue_comment", payload)[0] == 202
    job = only_job(redis_client)
    assert job.task == contract.RunCommand.NAME
    assert {k: job.kwargs[k] for k in ("command", "env", "comment_id", "sender")} == {
        "command": "deploy",
        "env": "production",
        "comment_id": payload["comment"]["id"],
        "sender": payload["comment"]["user"]["login"],
    }


def test_a_rollback_to_a_sha_carries_its_environment_and_sha(
    client: TestClient, redis_client: redis.Redis
) -> None:
    assert post(client, "issue_comment", pr_comment("/rollback production to ABC1234"))[0] == 202
    job = only_job(redis_client)
    assert job.task == contract.RunCommand.NAME
    assert contract.RunCommand.from_kwargs(job.kwargs).kwargs() == {
        **job.kwargs,
        "command": "rollback",
        "env": "production",
        "sha": "abc1234",
    }
    # On the rollbacks queue, which a worker of its own serves: no stage waits in front of it.
    assert redis_client.llen(contract.QUEUE_ROLLBACK) == 1


def test_a_typo_gets_a_help_job_that_suggests_the_command(
    client: TestClient, redis_client: redis.Redis
) -> None:
    assert post(client, "issue_comment", pr_comment("/delpoy"))[0] == 202
    job = only_job(redis_client)
    assert job.task == contract.CommandHelp.NAME
    assert "Did you mean `/deploy`?" in job.kwargs["message"]


def test_an_environment_name_goes_to_the_worker_unchecked(
    client: TestClient, redis_client: redis.Redis
) -> None:
    assert post(client, "issue_comment", pr_comment("/deploy stagign"))[0] == 202
    job = only_job(redis_client)
    assert job.task == contract.RunCommand.NAME
    assert job.kwargs["env"] == "stagign"


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (pr_comment("/deploy", user_type="Bot"), "comment by a bot"),
        (pr_comment("/deploy", action="edited"), "issue_comment.edited is not handled"),
        (example("issue_comment/created.payload.json"), "not a pull request"),
        (pr_comment("thanks!"), "no command"),
    ],
)
def test_comments_that_are_not_commands_start_nothing(
    payload: dict[str, Any], reason: str, client: TestClient, redis_client: redis.Redis
) -> None:
    status, text = post(client, "issue_comment", payload)
    assert status == 202
    assert reason in text
    assert queued_messages(redis_client) == []


def test_an_unknown_event_is_ignored_by_name(client: TestClient) -> None:
    assert post(client, "star", {"action": "created"}) == (
        202,
        "ignored: star.created is not handled",
    )


@pytest.mark.parametrize("event", ["projects_v2_item", "projects_v2_status_update"])
def test_a_signed_delivery_of_an_event_named_with_digits_is_answered_2xx(
    client: TestClient, redis_client: redis.Redis, event: str
) -> None:
    # GitHub's delivery log shows anything but a 2xx as a failed delivery.
    assert post(client, event, {"action": "edited"}) == (
        202,
        f"ignored: {event}.edited is not handled",
    )
    assert queued_messages(redis_client) == []
