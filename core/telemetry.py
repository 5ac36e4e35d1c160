"""Where every process's Prometheus metrics live, and what `/metrics` shows of them.

`deploybot serve` and `deploybot worker` share one directory (`<DATA_DIR>/metrics`) through
prometheus-client's multiprocess mode: each process, the worker's pool children included, writes
its counters and histograms to files of its own there, and the web process's `/metrics` adds them
all up. A process that shares nothing (a test, the demo) exposes only its own registry.
"""

from __future__ import annotations

import logging
import os
import struct
from collections.abc import Iterable
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

    prometheus-client picks its value store when it is first imported; asking it again here lets
    the choice follow the settings rather than the order of imports. Files are never wiped: a
    counter of a process that has exited still counts, and a worker still running keeps its own.
    """
    directory.mkdir(parents=True, exist_ok=True)
    os.environ[SHARED_ENV] = str(directory)
    values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]


def shared() -> Path | None:
    found = os.environ.get(SHARED_ENV)
    return Path(found) if found else None


# What reading a damaged file raises (its length or a key read from garbage).
_UNREADABLE: Final = (struct.error, ValueError, KeyError, IndexError, OSError)


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
        except _UNREADABLE:
            return _merge([f for f in files if _readable(f)])


def _merge(files: list[str]) -> Iterable[Metric]:
    merged: Iterable[Metric] = MultiProcessCollector.merge(  # type: ignore[no-untyped-call]
        files, accumulate=True
    )
    return merged


def _readable(file: str) -> bool:
    try:
        _merge([file])
    except _UNREADABLE as exc:
        log.warning("metrics: %s left out of /metrics, it cannot be read (%s)", file, exc)
        return False
    return True


def exposition(own: CollectorRegistry, computed: Iterable[Collector] = ()) -> bytes:
    """The text a scrape gets: every process's metrics when they are shared (else this one's),
    then the figures `computed` works out at scrape time."""
    registry = CollectorRegistry()
    directory = shared()
    registry.register(own if directory is None else Host(directory))
    for collector in computed:
        registry.register(collector)
    return generate_latest(registry)
