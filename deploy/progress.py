"""How a release or a deploy reports its steps as they happen (the CLI prints them, a worker
posts them to the check run)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    name: str
    state: str  # started | done | failed
    seconds: float = 0.0
    detail: str = ""


Progress = Callable[[Step], None]
