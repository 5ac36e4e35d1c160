"""Which releases keep their artifacts (pure), and the prune that removes the others' (act).

Pinned, in every environment: the live release, the warm spare, the N releases made before the
live one (default 5, what a rollback may go back to) and any made after it (not deployed yet);
and whatever a run in progress acts on. A prune never removes a pinned release's image or model
blob, nor a blob a pinned release shares.
"""

from __future__ import annotations

from collections.abc import Sequence, Set
from typing import Final

from deploy.manifest import Manifest

KEEP: Final = 5


def pinned(
    releases: Sequence[Manifest],
    held: Sequence[tuple[str | None, str | None]],
    busy: Set[str] = frozenset(),
    keep: int = KEEP,
) -> set[str]:
    """The commits whose artifacts stay; `releases` oldest first, `held` every environment's
    (live, spare), `busy` the releases a run in progress acts on."""
    commits = [m.commit for m in releases]
    kept = set(busy) | {c for pair in held for c in pair if c}
    lives = [commits.index(live) for live, _ in held if live in commits]
    for at in lives:
        kept |= set(commits[max(0, at - keep) : at])
    # Newer than every live release: not deployed anywhere yet (with nothing live: the last N).
    newest = max(lives) + 1 if lives else max(0, len(commits) - keep)
    return kept | set(commits[newest:])


def prunable(
    releases: Sequence[Manifest],
    held: Sequence[tuple[str | None, str | None]],
    busy: Set[str] = frozenset(),
    keep: int = KEEP,
) -> tuple[list[Manifest], set[str]]:
    """(releases whose artifacts may go, blob digests that must stay)."""
    kept = pinned(releases, held, busy, keep)
    needed = {m.model_digest for m in releases if m.commit in kept}
    return [m for m in releases if m.commit not in kept], needed
