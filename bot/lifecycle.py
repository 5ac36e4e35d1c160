"""App lifecycle events: ping answers pong; installation changes are recorded."""

from __future__ import annotations

from gidgethub import routing, sansio

from bot import payload
from bot.jobs import Context, Decision, Job, Pong, on
from core.contract import RecordInstallation
from core.errors import PayloadError

router = routing.Router()


def ping(event: sansio.Event, context: Context) -> Decision:
    return Pong()


def installation(event: sansio.Event, context: Context) -> Decision:
    data = event.data
    installation_id = payload.installation_id(data)
    action = payload.text(data, "action", max_len=64)
    # One change of the installation (GitHub bumps updated_at), however often it is delivered.
    updated_at = payload.field(data, "installation", "updated_at")
    if not isinstance(updated_at, int | str) or len(str(updated_at)) > 64:
        raise PayloadError("installation.updated_at must be a timestamp")
    return Job(
        RecordInstallation(
            installation_id=installation_id,
            action=action,
            account=payload.text(data, "installation", "account", "login", max_len=100),
            delivery_id=event.delivery_id,
        ),
        logical_key=f"installation:{event.event}:{installation_id}:{action}:{updated_at}",
    )


on(router, ping, "ping")
on(router, installation, "installation")
on(router, installation, "installation_repositories")
