"""App lifecycle events: ping answers pong; installation changes are recorded."""

from __future__ import annotations

from typing import Any

from gidgethub import routing

from bot import payload
from bot.jobs import Decision, Job, Pong, on
from core import task_names
from core.settings import Settings

router = routing.Router()


def ping(data: Any, settings: Settings) -> Decision:
    return Pong()


def installation(data: Any, settings: Settings) -> Decision:
    # Recording is idempotent, so every delivery may act: no logical key.
    return Job(
        task_names.RECORD_INSTALLATION,
        {
            "installation_id": payload.installation_id(data),
            "action": payload.text(data, "action", max_len=64),
            "account": payload.text(data, "installation", "account", "login", max_len=100),
        },
        logical_key=None,
    )


on(router, ping, "ping")
on(router, installation, "installation")
on(router, installation, "installation_repositories")
