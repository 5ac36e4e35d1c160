"""Where every process's Prometheus metrics live, and what `/metrics` shows of them.

`deploybot serve` and `deploybot worker` share one directory (`<DATA_DIR>/metrics`) through
prometheus-client's multiprocess mode: each process, the worker's pool children included, writes
its counters and histograms to files of its own there, and the web process's `/metrics` adds them
all up. A process that shares nothing (a test, the demo) exposes only its own registry.
"""

from __future__ import annotations

import errno
import logging
import os
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Final

from prometheus_client import CollectorRegistry, generate_latest, values
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)
SHARED_ENV: Final = "PROMETHEUS_MULTIPROC_DIR"
# What a scrape is answered with (the classic text format, which every scraper reads).
CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"


def metrics_dir(data_dir: Path) -> Path:
    return data_dir / "metrics"


def share(directory: Path) -> None:
    """Make the metrics this process creates from now on write to `directory`.

    prometheus-client picks its value store when it is first imported; setting it here lets the
    choice follow the settings rather than the order of imports. Files are named by a token of
    this process's start and its pid: containers each number their processes from 1, and two
    live processes writing one file would overwrite each other. Files are never wiped: a counter
    of a process that has exited still counts, and a worker still running keeps its own.
    """
    directory.mkdir(parents=True, exist_ok=True)
    if not os.access(directory, os.W_OK | os.X_OK):
        owner = directory.stat().st_uid
        raise PermissionError(
            errno.EACCES, f"not writable by uid {os.geteuid()} (it belongs to uid {owner})"
        )
    os.environ[SHARED_ENV] = str(directory)
    token = uuid.uuid4().hex[:12]
    values.ValueClass = values.MultiProcessValue(  # type: ignore[no-untyped-call]
        lambda: f"{token}-{os.getpid()}"
    )


def shared() -> Path | None:
    found = os.environ.get(SHARED_ENV)
    return Path(found) if found else None


class Host:
    """Every process's files in the shared directory, added up. A file that cannot be read (its
    process killed as it made it, a full disk) is left out and named in the log: one bad file
    must not fail every scrape after it."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def collect(self) -> Iterable[Metric]:
        files = sorted(str(path) for path in self.directory.glob("*.db"))
        try:
            return _merge(files)
        except Exception:  # whatever a damaged file raises: find it below, keep the rest
            return _merge([f for f in files if _readable(f)])


def _merge(files: list[str]) -> Iterable[Metric]:
    merged: Iterable[Metric] = MultiProcessCollector.merge(  # type: ignore[no-untyped-call]
        files, accumulate=True
    )
    return merged


def _readable(file: str) -> bool:
    try:
        _merge([file])
    except Exception as exc:  # a damaged file raises whatever its bytes lead to
        log.warning("metrics: %s left out of /metrics, it cannot be read (%r)", file, exc)
        return False
    return True


def quietly(record: Callable[[], None]) -> None:
    """Record a metric, or log why it could not be: a full disk or a removed directory must
    never fail the delivery, job, stage or deploy step it measures."""
    try:
        record()
    except Exception as exc:  # nothing a metric raises may reach the work it measures
        log.warning("metrics: a figure went unrecorded (%r)", exc)


def exposition(own: CollectorRegistry, computed: Iterable[Collector] = ()) -> bytes:
    """The text a scrape gets: every process's metrics when they are shared (else this one's),
    then the figures `computed` works out at scrape time."""
    registry = CollectorRegistry()
    directory = shared()
    registry.register(own if directory is None else Host(directory))
    for collector in computed:
        registry.register(collector)
    return generate_latest(registry)
