"""Which releases keep their artifacts (pure), and the prune that removes the others' (act).

Pinned: the live release, the warm spare, the N releases made before the live one (default 5,
what a rollback may go back to) and any made after it (not deployed yet). A prune never removes
a pinned release's image or model blob, nor a blob a pinned release shares.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from deploy.manifest import Manifest

KEEP: Final = 5


def pinned(
    releases: Sequence[Manifest], live: str | None, spare: str | None, keep: int = KEEP
) -> set[str]:
    """The commits whose artifacts stay; `releases` oldest first."""
    commits = [m.commit for m in releases]
    at = commits.index(live) if live in commits else len(commits)
    return (
        {c for c in (live, spare) if c} | set(commits[max(0, at - keep) : at]) | set(commits[at:])
    )


def prunable(
    releases: Sequence[Manifest], live: str | None, spare: str | None, keep: int = KEEP
) -> tuple[list[Manifest], set[str]]:
    """(releases whose artifacts may go, blob digests that must stay)."""
    kept = pinned(releases, live, spare, keep)
    needed = {m.model_digest for m in releases if m.commit in kept}
    return [m for m in releases if m.commit not in kept], needed
