"""The receiver's metrics: deliveries by event and outcome, and how long an enqueue takes."""

from __future__ import annotations

from typing import Final

from prometheus_client import CollectorRegistry, Counter, Histogram

from core.telemetry import quietly

# Enqueue latency buckets, seconds: the ack budget is milliseconds, GitHub's timeout 10 s.
BUCKETS: Final = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)


class WebMetrics:
    """One receiver's metrics, in a registry of its own (so that apps built side by side, as
    tests do, count apart)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.deliveries = Counter(
            "deploybot_webhook_deliveries",
            "Webhook deliveries by event and outcome.",
            ["event", "outcome"],
            registry=self.registry,
        )
        self.enqueue = Histogram(
            "deploybot_webhook_enqueue_seconds",
            "Time to deduplicate and enqueue one job.",
            buckets=BUCKETS,
            registry=self.registry,
        )

    def delivery(self, event: str, outcome: str) -> None:
        quietly(lambda: self.deliveries.labels(event, outcome).inc())

    def enqueue_seconds(self, seconds: float) -> None:
        quietly(lambda: self.enqueue.observe(seconds))
