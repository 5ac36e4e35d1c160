"""The receiver's task message is the one Celery's send_task would have written to Redis."""

from __future__ import annotations

import json
from typing import Any

import redis
from celery import Celery

from bot.envelope import task_message
from core import contract

MESSAGE = contract.RunCommand(
    installation_id=1,
    repo="octo/tutor",
    pr_number=3,
    comment_id=9,
    sender="boss",
    command="rollback",
    sha="a" * 40,
    delivery_id="d-1",
    received_at="2026-12-01T10:00:00+00:00",
)
KWARGS = MESSAGE.kwargs()


def test_the_message_matches_what_send_task_writes(
    celery_app: Celery, redis_client: redis.Redis
) -> None:
    queue = MESSAGE.queue  # a /rollback: the rollbacks queue
    celery_app.send_task(
        MESSAGE.NAME,
        kwargs=KWARGS,
        queue=queue,
        task_id="t-1",
        ignore_result=True,
        argsrepr="()",
        kwargsrepr=repr(KWARGS),
    )
    (raw,) = redis_client.lrange(queue, 0, -1)
    sent: dict[str, Any] = json.loads(raw)
    ours: dict[str, Any] = json.loads(task_message(celery_app, MESSAGE, "t-1"))

    assert sent.keys() == ours.keys()
    assert ours["body"] == sent["body"]
    assert ours["headers"] == sent["headers"]
    assert {k: sent[k] for k in ("content-type", "content-encoding")} == {
        k: ours[k] for k in ("content-type", "content-encoding")
    }
    # kombu also copies the reprs into the properties; the worker reads them from the headers.
    expected = {k: v for k, v in sent["properties"].items() if k not in {"argsrepr", "kwargsrepr"}}
    assert expected.keys() == ours["properties"].keys()
    for key in expected.keys() - {"delivery_tag"}:
        assert ours["properties"][key] == expected[key], key
