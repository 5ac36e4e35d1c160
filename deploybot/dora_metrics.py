"""The four DORA metrics of every environment as Prometheus gauges, worked out from the deploy
ledgers at each scrape (the same figures as the status page and `deploybot metrics`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from deploy import dora
from deploy.ledger import Ledger, environments

# Each gauge: its name, what it is, and its figure (None: nothing to measure in the window).
GAUGES: Final[tuple[tuple[str, str, Callable[[dora.Metrics], float | None]], ...]] = (
    ("deploybot_dora_deploys", "Deploys that went live in the window.", lambda m: m.deploys),
    (
        "deploybot_dora_deploys_per_day",
        "Deployment frequency: deploys that went live, per day over the window.",
        lambda m: m.per_day,
    ),
    (
        "deploybot_dora_days_with_a_deploy",
        "Deployment frequency: days in the window that had a deploy.",
        lambda m: m.days_with_a_deploy,
    ),
    (
        "deploybot_dora_lead_time_seconds",
        "Lead time for changes: median time from a release's commit to it going live.",
        lambda m: m.lead_time_s,
    ),
    (
        "deploybot_dora_change_failure_ratio",
        "Change failure rate: deploys followed by a rollback or an automatic flip-back, "
        "divided by the deploys that went live.",
        lambda m: m.change_failure_rate,
    ),
    (
        "deploybot_dora_time_to_restore_seconds",
        "Time to restore: median time from a failure being detected to a healthy release live.",
        lambda m: m.time_to_restore_s,
    ),
)


class DoraFigures:
    """A collector: one sample per environment and window (7d, 30d) of each gauge."""

    def __init__(
        self, ledgers: Path, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.ledgers = ledgers
        self.clock = clock

    def collect(self) -> Iterator[Metric]:
        families = [
            (GaugeMetricFamily(name, what, labels=["environment", "window"]), figure)
            for name, what, figure in GAUGES
        ]
        now = self.clock()
        for name in environments(self.ledgers):
            entries = Ledger(self.ledgers, name).entries()
            for window in dora.all_windows(entries, now):
                for family, figure in families:
                    value = figure(window)
                    if value is not None:
                        family.add_metric([name, f"{window.days}d"], value)
        for family, _ in families:
            yield family
