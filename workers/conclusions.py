"""GitHub's check-run conclusions and what each means for a pull request: one definition."""

from __future__ import annotations

from typing import Final

CONCLUSIONS: Final = frozenset(
    {"success", "failure", "neutral", "cancelled", "skipped", "timed_out", "action_required"}
)
# The conclusions that fail a pull request (the others pass, warn, or say it did not run).
FAILED: Final = frozenset({"failure", "timed_out", "action_required"})


def is_failed(state: str | None) -> bool:
    return state in FAILED
