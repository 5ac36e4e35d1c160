"""Every payload example GitHub documents, replayed signed through the real receiver."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import redis
from celery import Celery
from starlette.testclient import TestClient

from core import contract
from tests.bot.conftest import (
    WEBHOOKS,
    Recorder,
    example,
    headers_for,
    queued_messages,
)
from tests.conftest import WorkerFactory

EXAMPLES = sorted(str(p.relative_to(WEBHOOKS)) for p in WEBHOOKS.glob("*/*.json"))
PIPELINE_EXAMPLES = {
    "pull_request/opened.payload.json",
    "pull_request/opened.with-null-body.json",
    "pull_request/opened.with-organization.payload.json",
    "pull_request/reopened.payload.json",
    "pull_request/reopened.with-organization.payload.json",
    "pull_request/synchronize.payload.json",
    "pull_request/ready_for_review.with-installation.payload.json",
}
# Repository webhooks (not App installations) carry no installation id: nothing can act on them.
NO_INSTALLATION = {
    "pull_request/ready_for_review.payload.json",
    "pull_request/ready_for_review.with-organization.payload.json",
}


def expected(name: str, payload: dict[str, Any]) -> tuple[int, str | None, dict[str, Any]]:
    """(status, task, kwargs the job must carry) for one example; the documented behaviour."""
    event = name.split("/")[0]
    repo = payload.get("repository", {}).get("full_name")
    installation = (payload.get("installation") or {}).get("id")
    if name in PIPELINE_EXAMPLES:
        pr = payload["pull_request"]
        return (
            202,
            contract.RunPipeline.NAME,
            {
                "installation_id": installation,
                "repo": repo,
                "pr_number": pr["number"],
                "sha": pr["head"]["sha"],
            },
        )
    if name in NO_INSTALLATION:
        return 422, None, {}
    if event == "ping":
        return 200, None, {}
    if event in {"installation", "installation_repositories"}:
        return 202, None, {}  # nothing to do: each job asks for its installation's token
    if name.startswith("check_suite/rerequested"):
        suite = payload["check_suite"]
        return (
            202,
            contract.Rerun.NAME,
            {
                "installation_id": installation,
                "repo": repo,
                "scope": "suite",
                "check_suite_id": suite["id"],
                "sha": suite["head_sha"],
                "pr_number": suite["pull_requests"][0]["number"],
            },
        )
    if event == "push" and not payload["deleted"]:
        # These examples push the default branch.
        return (
            202,
            contract.RecordPush.NAME,
            {
                "installation_id": installation,
                "repo": repo,
                "branch": payload["repository"]["default_branch"],
                "sha": payload["after"],
            },
        )
    return 202, None, {}


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_gets_its_documented_answer_and_job(
    name: str, client: TestClient, redis_client: redis.Redis
) -> None:
    payload = example(name)
    body = (WEBHOOKS / name).read_bytes()
    headers = headers_for(name.split("/")[0], body)
    status, task, kwargs = expected(name, payload)

    response = client.post("/webhook", content=body, headers=headers)

    assert response.status_code == status, response.text
    messages = queued_messages(redis_client)
    if task is None:
        assert messages == []
        return
    (message,) = messages
    assert message.task == task
    assert message.kwargs["delivery_id"] == headers["x-github-delivery"]
    assert {k: message.kwargs[k] for k in kwargs} == kwargs
    assert response.text == f"queued {task} {message.task_id}\n"


def test_a_worker_runs_exactly_the_jobs_the_receiver_acknowledged(
    client: TestClient,
    celery_app: Celery,
    recorder: Recorder,
    start_worker: WorkerFactory,
    redis_client: redis.Redis,
) -> None:
    acknowledged: dict[str, str] = {}
    with start_worker(celery_app, concurrency=1):
        for name in EXAMPLES:
            body = (WEBHOOKS / name).read_bytes()
            response = client.post(
                "/webhook", content=body, headers=headers_for(name.split("/")[0], body)
            )
            assert response.status_code < 500, (name, response.text)
            if response.text.startswith("queued "):
                _, task, task_id = response.text.split()
                acknowledged[task_id] = task
        ran = recorder.wait(len(acknowledged))
        ran += recorder.settle()
    assert {m.task_id: m.task for m in ran} == acknowledged
    assert len(ran) == len(acknowledged)
    # Examples share commits, so later deliveries of one change are answered as duplicates.
    assert sorted(set(acknowledged.values())) == sorted(
        {
            contract.RunPipeline.NAME,
            contract.Rerun.NAME,
            contract.RecordPush.NAME,
        }
    )


def test_duplicate_examples_are_acknowledged_without_a_job(
    make_client: Callable[..., TestClient], redis_client: redis.Redis
) -> None:
    client = make_client()
    body = (WEBHOOKS / "pull_request/synchronize.payload.json").read_bytes()
    headers = headers_for("pull_request", body)
    first = client.post("/webhook", content=body, headers=headers)
    again = client.post("/webhook", content=body, headers=headers)
    other_id = client.post("/webhook", content=body, headers=headers_for("pull_request", body))
    assert (first.status_code, again.status_code, other_id.status_code) == (202, 200, 200)
    assert again.text == "duplicate delivery\n"
    assert other_id.text == "duplicate event\n"
    assert len(queued_messages(redis_client)) == 1
