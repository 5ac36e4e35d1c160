"""Decisions without HTTP: events dispatched through the merged router into a plan."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from gidgethub import sansio

from bot.jobs import Context, Ignore, Job, Plan, Pong
from bot.routes import router
from core import contract
from core.errors import PayloadError
from core.settings import Settings
from tests.bot.conftest import example

CONTEXT = Context(Settings(webhook_secret="unused"), datetime.now(UTC))


async def decide(event: str, data: dict[str, Any]) -> Job | Ignore | Pong:
    plan = Plan()
    await router.dispatch(sansio.Event(data, event=event, delivery_id="1"), plan, CONTEXT)
    return plan.outcome(event, data.get("action"))


async def test_a_new_head_commit_plans_one_pipeline_job() -> None:
    data = example("pull_request/synchronize.payload.json")
    job = await decide("pull_request", data)
    assert isinstance(job, Job)
    assert isinstance(job.message, contract.RunPipeline)
    assert job.message.QUEUE == contract.QUEUE_LONG
    assert job.message.delivery_id == "1"
    assert (
        job.logical_key
        == f"pipeline:{data['repository']['id']}:{data['pull_request']['head']['sha']}"
    )


async def test_ping_is_answered_and_unknown_actions_are_named() -> None:
    assert await decide("ping", example("ping/payload.json")) == Pong()
    assert await decide("pull_request", example("pull_request/labeled.payload.json")) == Ignore(
        "pull_request.labeled is not handled"
    )


async def test_a_missing_field_is_a_payload_error_naming_it() -> None:
    data = copy.deepcopy(example("pull_request/synchronize.payload.json"))
    del data["pull_request"]["head"]
    with pytest.raises(PayloadError, match=r"pull_request\.head is missing"):
        await decide("pull_request", data)


def test_a_plan_with_two_jobs_is_a_bug_not_a_choice() -> None:
    plan = Plan()
    push = contract.RecordPush(
        installation_id=1, repo="o/r", branch="main", sha="a" * 40, delivery_id="1"
    )
    job = Job(push, "push:1")
    plan.add(job)
    plan.add(job)
    with pytest.raises(RuntimeError, match="expected one"):
        plan.outcome("push", None)
