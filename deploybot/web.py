"""`deploybot serve`'s two listeners under uvicorn in one process: the receiver on the port GitHub
reaches, the status listener on DEPLOYBOT_STATUS_ADDR. Either one failing to start stops both."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import uvicorn
from starlette.applications import Starlette


@dataclass(frozen=True)
class Listen:
    app: Starlette
    host: str
    port: int


async def serve(receiver: Listen, status: Listen) -> None:
    """Serve both until a signal stops them. Each server takes SIGTERM/SIGINT while it runs and
    passes it on when it has stopped (uvicorn's own rule), so one signal stops the status
    listener, then the receiver."""
    first, second = (
        uvicorn.Server(uvicorn.Config(listen.app, host=listen.host, port=listen.port))
        for listen in (receiver, status)
    )

    async def receiving() -> None:
        try:
            await first.serve()
        finally:
            second.should_exit = True

    await asyncio.gather(receiving(), second.serve())
