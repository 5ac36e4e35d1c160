"""Reading a delivery's body within bounds: of size, of time, and of the memory all bodies in
flight may hold together, so that slow or stalled senders cannot exhaust the receiver."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Final

from starlette.requests import Request

from bot.verify import MAX_BODY_BYTES, Rejected

# GitHub gives up on a delivery after 10 s; a body still arriving by then is never answered.
BODY_TIMEOUT_S: Final = 10.0
# What every body being read may hold at once: a few of GitHub's largest, thousands of typical.
MAX_IN_FLIGHT_BYTES: Final = 64 * 1024 * 1024
RETRY_AFTER_S: Final = 5


class OutOfBudget(Rejected):
    """Too many bytes in flight already: 503, come back in RETRY_AFTER_S."""

    def __init__(self) -> None:
        super().__init__(
            503,
            "too many deliveries in flight; redeliver shortly",
            {"Retry-After": str(RETRY_AFTER_S)},
        )


class Budget:
    """Bytes held by bodies in flight, across requests (one event loop: no lock needed)."""

    def __init__(self, limit: int = MAX_IN_FLIGHT_BYTES) -> None:
        self.limit = limit
        self.held = 0

    @asynccontextmanager
    async def hold(self, size: int) -> AsyncIterator[None]:
        """Hold `size` bytes for the block, or OutOfBudget when they are not free."""
        if self.held + size > self.limit:
            raise OutOfBudget
        self.held += size
        try:
            yield
        finally:
            self.held -= size


async def read_body(request: Request, budget: Budget) -> bytes:
    """The whole body, within MAX_BODY_BYTES and BODY_TIMEOUT_S; what it holds meanwhile counts
    against the budget (the declared Content-Length at once, else chunk by chunk)."""
    declared = request.headers.get("content-length")
    try:
        async with asyncio.timeout(BODY_TIMEOUT_S):
            if declared is not None and declared.isdigit():
                async with budget.hold(int(declared)):
                    return await _read(request, None)
            return await _read(request, budget)
    except TimeoutError:
        raise Rejected(408, f"the body did not arrive within {BODY_TIMEOUT_S:.0f} s") from None


async def _read(request: Request, budget: Budget | None) -> bytes:
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise Rejected(413, "body over 25 MB")
            if budget is not None:
                if budget.held + len(chunk) > budget.limit:
                    raise OutOfBudget
                budget.held += len(chunk)
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        if budget is not None:
            budget.held -= sum(len(c) for c in chunks)
