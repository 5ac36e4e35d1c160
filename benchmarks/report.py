"""Shared figures and table printing, so every benchmark reports the same way."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    """One measured subject: latencies in seconds, and how many requests per second it took."""

    name: str
    samples_s: Sequence[float]
    throughput_rps: float | None = None

    @property
    def p50_ms(self) -> float:
        return percentile(self.samples_s, 50) * 1000

    @property
    def p99_ms(self) -> float:
        return percentile(self.samples_s, 99) * 1000


def percentile(samples: Sequence[float], pct: float) -> float:
    if not samples:
        raise ValueError("no samples")
    if len(samples) == 1:
        return samples[0]
    # "inclusive" keeps p99 of a small set inside the observed range.
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[int(pct) - 1] if pct < 100 else max(samples)


def table(title: str, rows: Sequence[Row], baseline: str) -> str:
    """A side-by-side table; the last column compares each row's p50 with the baseline row's."""
    base = next(r for r in rows if r.name == baseline)
    lines = [
        f"== {title} ==",
        f"{'subject':<34}{'n':>7}{'p50 ms':>10}{'p99 ms':>10}{'req/s':>10}{'p50 vs base':>13}",
    ]
    for r in rows:
        rps = f"{r.throughput_rps:.0f}" if r.throughput_rps is not None else "-"
        ratio = r.p50_ms / base.p50_ms if base.p50_ms else float("nan")
        lines.append(
            f"{r.name:<34}{len(r.samples_s):>7}{r.p50_ms:>10.2f}{r.p99_ms:>10.2f}{rps:>10}"
            f"{ratio:>12.2f}x"
        )
    return "\n".join(lines)
