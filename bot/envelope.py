"""A Celery task message as kombu's Redis transport stores it, built without touching the broker."""

from __future__ import annotations

import base64
import uuid
from typing import Any

from celery import Celery
from kombu.serialization import dumps as serialize
from kombu.utils.json import dumps as to_json

from core.contract import Message


def task_message(celery: Celery, message: Message, task_id: str) -> str:
    """The JSON a worker consuming the message's queue pops: Celery's own protocol message
    (headers and body from `celery.amqp`), in the envelope kombu's Redis transport LPUSHes for
    `send_task`.

    The receiver pushes it inside its claim script, so that claiming a delivery and queueing its
    job happen in one atomic step. tests/bot/test_envelope.py pins it to what `send_task` writes.
    """
    kwargs = message.kwargs()
    created = celery.amqp.create_task_message(
        task_id,
        message.NAME,
        (),
        kwargs,
        # Small flat scalars: a plain repr is safe and far cheaper than Celery's saferepr.
        argsrepr="()",
        kwargsrepr=repr(kwargs),
        # Nobody waits on a webhook job's result.
        ignore_result=True,
        reply_to=celery.thread_oid,
    )
    content_type, content_encoding, body = serialize(created.body, serializer="json")
    envelope: dict[str, Any] = {
        "body": _base64(body),
        "content-encoding": content_encoding,
        "content-type": content_type,
        "headers": created.headers,
        "properties": {
            **created.properties,
            "delivery_mode": 2,  # persistent
            "delivery_info": {"exchange": "", "routing_key": message.queue},
            "priority": 0,
            "body_encoding": "base64",
            "delivery_tag": str(uuid.uuid4()),
        },
    }
    return str(to_json(envelope))


def _base64(body: str | bytes) -> str:
    raw = body.encode("utf-8") if isinstance(body, str) else body
    return base64.b64encode(raw).decode("ascii")
