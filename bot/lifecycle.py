"""App lifecycle events: ping answers pong; an installation change needs nothing (each job asks
GitHub for its installation's token when it runs)."""

from __future__ import annotations

from gidgethub import routing, sansio

from bot.jobs import Context, Decision, Ignore, Pong, on

router = routing.Router()


def ping(event: sansio.Event, context: Context) -> Decision:
    return Pong()


def installation(event: sansio.Event, context: Context) -> Decision:
    return Ignore("an installation change needs nothing: each job asks for its token when it runs")


on(router, ping, "ping")
on(router, installation, "installation")
on(router, installation, "installation_repositories")
