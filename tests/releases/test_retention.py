"""Retention: in every environment, the live release, the spare and the previous five keep their
artifacts, and so does what a run in progress acts on."""

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
    kept = pinned(RELEASES, [(sha(8), sha(2))])
    assert kept == {sha(n) for n in (2, 3, 4, 5, 6, 7, 8, 9, 10)}
    assert pinned(RELEASES, []) == {sha(n) for n in range(6, 11)}


def test_a_blob_a_pinned_release_shares_is_never_pruned() -> None:
    shared = [manifest(1, "sha256:" + "s" * 64), manifest(2, "sha256:" + "s" * 64)]
    releases = shared + [manifest(n) for n in range(3, 9)]
    doomed, needed = prunable(releases, [(sha(8), None)], keep=5)
    assert [m.commit for m in doomed] == [sha(1), sha(2)]
    assert "sha256:" + "s" * 64 not in needed  # nobody pinned uses it: it may go
    doomed, needed = prunable(releases, [(sha(8), sha(2))], keep=5)
    assert [m.commit for m in doomed] == [sha(1)]
    assert "sha256:" + "s" * 64 in needed  # the spare shares release 1's blob: it stays


def test_every_environment_pins_its_own_and_a_run_in_progress_pins_its_release() -> None:
    # production runs release 10; staging was left on release 2 with 1 as its spare.
    doomed, _ = prunable(RELEASES, [(sha(10), None), (sha(2), sha(1))], keep=2)
    assert [m.commit for m in doomed] == [sha(n) for n in (3, 4, 5, 6, 7)]
    # A rollback to release 4 is running somewhere: its artifacts stay too.
    doomed, _ = prunable(RELEASES, [(sha(10), None), (sha(2), sha(1))], {sha(4)}, keep=2)
    assert sha(4) not in {m.commit for m in doomed}
    # Nothing live anywhere: the newest `keep` stay.
    doomed, _ = prunable(RELEASES, [], keep=2)
    assert [m.commit for m in doomed] == [sha(n) for n in range(1, 9)]
