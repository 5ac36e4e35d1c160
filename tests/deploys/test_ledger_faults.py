"""The deploy ledger under bad bytes and a full disk: a damaged line is skipped and named, never a
traceback, and every surface that reads the ledger keeps working; a write that does not fit fails
its step loudly and leaves no half line behind."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from core.errors import LedgerError
from deploy.ledger import END, Entry, Ledger, parse, read
from tests.conftest import IN_CI, run_deploybot
from tests.deploys.conftest import Deployment, Staged

A = "a" * 40


@contextlib.contextmanager
def small_disk(where: Path, size: str = "256k") -> Iterator[Path]:
    """A tmpfs of `size` mounted at `where` (root only: CI runs as root)."""
    where.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        if IN_CI:
            pytest.fail(f"cannot mount a tmpfs: {mounted.stderr}")
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(disk: Path) -> None:
    """Every free byte of the disk taken."""
    with contextlib.suppress(OSError), (disk / "filler").open("wb", buffering=0) as out:
        while True:
            out.write(b"\0" * 4096)


def test_damaged_and_torn_lines_are_skipped_and_named() -> None:
    good = b'{"deploy": "d", "kind": "deploy", "step": "flip", "phase": "end", "commit": "a"}'
    data = b"\n".join(
        [
            good,
            b'{"deploy": "d", "kind": "dep\xffloy"}',  # a damaged byte
            b'{"deploy": 1, "kind": "deploy", "step": "x", "phase": "end", "commit": "a"}',
            b"[" * 5000,  # nested too deep to decode
            good,
            b'{"deploy": "d", "kind": "deploy", "st',  # torn by a crash mid-write
        ]
    )
    found, damaged = parse(data)
    assert len(found) == 2
    assert [d.line for d in damaged] == [2, 3, 4, 6]
    assert "UnicodeDecodeError" in damaged[0].reason
    assert "deploy is int" in damaged[1].reason


def test_a_write_that_does_not_fit_fails_and_leaves_no_half_line(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk") as disk:
        ledger = Ledger(disk, "production")
        first = Entry("d0", "deploy", "flip", END, A, colour="blue")
        ledger.append(first)
        fill(disk)
        with pytest.raises(LedgerError, match=r"cannot write the deploy ledger .*production"):
            ledger.append(Entry("d1", "deploy", "flip", END, A, colour="green", detail="x" * 8000))
        assert parse(ledger.path.read_bytes()) == ([first], [])  # no half line left
        assert read(ledger.entries()).live is not None


@pytest.mark.slow
def test_a_deploy_on_a_full_disk_stops_loudly_and_traffic_stays(
    process_releases: Staged, deployment: Callable[..., Deployment]
) -> None:
    first, second = process_releases.commits
    env = deployment(process_releases, "process")
    ledgers = env.data / "ledger"
    with small_disk(ledgers, "1m"):
        env.deploy(first)
        fill(ledgers)
        done = env.cli("deploy", second)
        assert done.returncode != 0
        assert "cannot write the deploy ledger" in done.stderr, done.stderr
        assert "Traceback" not in done.stdout + done.stderr
        # Room again: the next command settles the deploy the disk cut short (which step the
        # disk stopped depends on the page the ledger's last line sits in) as any deploy cut
        # short is settled: the release it was replacing serves.
        (ledgers / "filler").unlink()
        found = env.status()
        assert found["live"]["commit"] == first
        assert not found["in_progress"]
        assert env.front_serves() == first
        # With room again, the same deploy goes through.
        env.deploy(second)
        assert env.front_serves() == second


@pytest.mark.slow
def test_a_damaged_byte_in_the_ledger_stops_no_command_and_no_proxy(
    process_releases: Staged, deployment: Callable[..., Deployment]
) -> None:
    first, _ = process_releases.commits
    env = deployment(process_releases, "process")
    env.deploy(first)
    path = env.data / "ledger" / f"{env.name}.jsonl"
    lines = path.read_bytes().split(b"\n")
    begin = next(i for i, line in enumerate(lines) if b'"phase": "begin"' in line)
    lines[begin] = lines[begin][:10] + b"\xff\xfe" + lines[begin][12:]
    path.write_bytes(b"\n".join(lines))

    shown = env.cli("status")
    assert shown.returncode == 0, shown.stderr
    assert f"{path}:{begin + 1}: skipped a damaged line" in shown.stderr
    assert env.status()["live"]["commit"] == first
    for command in ("history", "metrics"):
        done = run_deploybot(command, env=env.env)
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
    # HAProxy restarted: the proxy comes up and routes where the readable ledger says.
    env.stop_proxy()
    env.start_proxy()
    assert env.front_serves() == first


@pytest.mark.slow
def test_retention_runs_after_a_deploy_and_prunes_only_what_nothing_pins(
    process_releases: Staged, deployment: Callable[..., Deployment]
) -> None:
    first, second = process_releases.commits
    env = deployment(process_releases, "process")
    done = env.deploy(second)  # the first release was never live: nothing pins it but `keep`
    assert "retention: pruned 0 release(s) no environment pins: nothing to prune" in done.stdout

    prune = ("prune", "--keep", "0", "--no-docker", "--repository", "octo/tutor")
    pruned = run_deploybot(*prune, env=env.env)
    assert pruned.returncode == 0, pruned.stderr
    assert f"pruned 1 release(s) no environment pins: {first[:12]}" in pruned.stdout
    assert not (env.data / "trees" / first).exists()
    assert (env.data / "trees" / second).is_dir()
    assert env.front_serves() == second
    again = run_deploybot(*prune, env=env.env)
    assert "nothing to prune" in again.stdout
