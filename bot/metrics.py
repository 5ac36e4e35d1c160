"""Prometheus text-format metrics for the receiver, hand-rolled: a counter and a histogram."""

from __future__ import annotations

from collections import Counter
from typing import Final

# Enqueue latency buckets, seconds: the ack budget is milliseconds, GitHub's timeout 10 s.
BUCKETS: Final = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)


class Metrics:
    """Updated from the event loop only, so no lock is needed."""

    def __init__(self) -> None:
        self._deliveries: Counter[tuple[str, str]] = Counter()
        self._bucket_counts = [0] * len(BUCKETS)
        self._enqueue_count = 0
        self._enqueue_sum = 0.0

    def delivery(self, event: str, outcome: str) -> None:
        self._deliveries[event, outcome] += 1

    def enqueue_seconds(self, seconds: float) -> None:
        self._enqueue_count += 1
        self._enqueue_sum += seconds
        for i, bound in enumerate(BUCKETS):
            if seconds <= bound:
                self._bucket_counts[i] += 1

    def render(self) -> str:
        lines = [
            "# HELP deploybot_webhook_deliveries_total Webhook deliveries by event and outcome.",
            "# TYPE deploybot_webhook_deliveries_total counter",
        ]
        for (event, outcome), count in sorted(self._deliveries.items()):
            labels = f'event="{_escape(event)}",outcome="{_escape(outcome)}"'
            lines.append(f"deploybot_webhook_deliveries_total{{{labels}}} {count}")
        name = "deploybot_webhook_enqueue_seconds"
        lines += [
            f"# HELP {name} Time to deduplicate and enqueue one job.",
            f"# TYPE {name} histogram",
        ]
        for bound, count in zip(BUCKETS, self._bucket_counts, strict=True):
            lines.append(f'{name}_bucket{{le="{bound}"}} {count}')
        lines += [
            f'{name}_bucket{{le="+Inf"}} {self._enqueue_count}',
            f"{name}_sum {self._enqueue_sum}",
            f"{name}_count {self._enqueue_count}",
        ]
        return "\n".join(lines) + "\n"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
