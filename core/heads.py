"""The head commits the receiver has seen on each pull request, and since when.

The receiver records each head the moment a delivery names it (in the same atomic step that
queues the pipeline); `/ok-to-test` then approves the head only if it was seen before the
comment arrived, so a push that races the comment is never approved by it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

PREFIX: Final = "deploybot:heads"
# As long as a delivery id is remembered: longer than any pull request waits for approval.
TTL_S: Final = 30 * 24 * 3600


def key(repo: str, pr_number: int) -> str:
    return f"{PREFIX}:{repo}:{pr_number}"


def stamp(when: datetime) -> str:
    """A time as stored: ISO 8601 in UTC, to the microsecond."""
    return when.astimezone(UTC).isoformat()


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text)
