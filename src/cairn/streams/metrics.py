"""Prometheus metrics of the stream processors, read from their checkpoints at scrape time.

``cairn serve`` registers :class:`StreamCollector` over its :class:`~cairn.app.stream_status
.StreamWatch`, so one scrape of the server shows how current its streaming features are:

* ``cairn_stream_lag_events{source}`` — events in the log after the processor's checkpoint;
* ``cairn_stream_lag_seconds{source}`` — seconds since the last commit while events wait;
* ``cairn_stream_events_per_second{source}`` and ``cairn_stream_batch_seconds{source}`` — the
  last micro-batch's throughput and its time from read to commit;
* ``cairn_stream_events_total{source,outcome}`` — events read, landed, held, released,
  skipped and dead-lettered since the processor's first batch;
* ``cairn_stream_held{source}`` — events held for their event time now;
* ``cairn_stream_up`` — 1 when the status could be read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from cairn.streams.checkpoint import COUNTS

logger = logging.getLogger("cairn.streams")
StatusProbe = Callable[[], list[dict[str, Any]]]


class StreamCollector(Collector):
    """Stream gauges and counters computed from ``probe`` each time Prometheus scrapes.

    Example
    -------
    >>> from prometheus_client import CollectorRegistry, generate_latest
    >>> row = {"source": "txns", "lag_events": 3, "lag_seconds": 1.5, "held_now": 0,
    ...        "events_per_second": 900.0, "last_batch_seconds": 0.01, "counts": {"events": 7}}
    >>> registry = CollectorRegistry()
    >>> registry.register(StreamCollector(lambda: [row]))
    >>> 'cairn_stream_lag_events{source="txns"} 3.0' in generate_latest(registry).decode()
    True
    """

    def __init__(self, probe: StatusProbe) -> None:
        self._probe = probe

    def describe(self) -> Iterator[Metric]:
        """The metric names, without calling the probe."""
        yield from self._families().values()

    def collect(self) -> Iterator[Metric]:
        """Every source's metrics at this instant."""
        f = self._families()
        try:
            rows = self._probe()
        except Exception:  # a failing probe must not take /metrics down with it
            logger.exception("The stream status probe failed")
            f["up"].add_metric([], 0)
            yield f["up"]
            return
        for row in rows:
            source = [row["source"]]
            f["lag_events"].add_metric(source, row["lag_events"])
            if row["lag_seconds"] is not None:
                f["lag_seconds"].add_metric(source, row["lag_seconds"])
            f["rate"].add_metric(source, row["events_per_second"])
            f["batch"].add_metric(source, row["last_batch_seconds"])
            f["held"].add_metric(source, row["held_now"])
            for outcome in COUNTS:
                f["total"].add_metric([row["source"], outcome], row["counts"].get(outcome, 0))
        f["up"].add_metric([], 1)
        yield from f.values()

    @staticmethod
    def _families() -> dict[str, Any]:
        src = ["source"]
        return {
            "lag_events": GaugeMetricFamily(
                "cairn_stream_lag_events", "Events in the log after the checkpoint.", labels=src
            ),
            "lag_seconds": GaugeMetricFamily(
                "cairn_stream_lag_seconds",
                "Seconds since the last commit while events wait (0 when caught up).",
                labels=src,
            ),
            "rate": GaugeMetricFamily(
                "cairn_stream_events_per_second", "Throughput of the last batch.", labels=src
            ),
            "batch": GaugeMetricFamily(
                "cairn_stream_batch_seconds",
                "The last batch's time from read to commit.",
                labels=src,
            ),
            "held": GaugeMetricFamily(
                "cairn_stream_held", "Events held until their event time.", labels=src
            ),
            "total": CounterMetricFamily(
                "cairn_stream_events",
                "Events by outcome: events (read), landed, held, released, skipped, dead.",
                labels=["source", "outcome"],
            ),
            "up": GaugeMetricFamily("cairn_stream_up", "1 when the stream status could be read."),
        }
