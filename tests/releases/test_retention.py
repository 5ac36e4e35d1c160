"""Retention: the live release, the spare and the previous five keep their artifacts."""

from __future__ import annotations

from deploy.manifest import Manifest
from deploy.retention import pinned, prunable


def manifest(n: int, model: str | None = None) -> Manifest:
    return Manifest(
        repository="octo/tutor",
        commit=f"{n:040x}",
        image=f"127.0.0.1:5000/tutor@sha256:{n:064x}",
        model_digest=model or f"sha256:{n:064x}",
        table_digest="sha256:" + "t" * 64,
        aggregate=0.96,
        suites={},
        latency_p50_ms=None,
        previous_latency_p50_ms=None,
        verdict="pass",
        reasons=(),
        checks={},
        created_at=f"2026-12-01T10:{n:02d}:00+00:00",
        triggered_by="cli",
        requested_by="maintainer",
    )


RELEASES = [manifest(n) for n in range(1, 11)]


def sha(n: int) -> str:
    return f"{n:040x}"


def test_the_live_release_the_spare_the_previous_five_and_newer_ones_are_pinned() -> None:
    kept = pinned(RELEASES, live=sha(8), spare=sha(2))
    assert kept == {sha(n) for n in (2, 3, 4, 5, 6, 7, 8, 9, 10)}
    assert pinned(RELEASES, live=None, spare=None) == {sha(n) for n in range(6, 11)}


def test_a_blob_a_pinned_release_shares_is_never_pruned() -> None:
    shared = [manifest(1, "sha256:" + "s" * 64), manifest(2, "sha256:" + "s" * 64)]
    releases = shared + [manifest(n) for n in range(3, 9)]
    doomed, needed = prunable(releases, live=sha(8), spare=None, keep=5)
    assert [m.commit for m in doomed] == [sha(1), sha(2)]
    assert "sha256:" + "s" * 64 not in needed  # nobody pinned uses it: it may go
    doomed, needed = prunable(releases, live=sha(8), spare=sha(2), keep=5)
    assert [m.commit for m in doomed] == [sha(1)]
    assert "sha256:" + "s" * 64 in needed  # the spare shares release 1's blob: it stays
