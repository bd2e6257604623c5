"""Prometheus gauges of the latest monitoring results, computed when Prometheus scrapes.

:class:`MonitoringCollector` reads through a callable that returns the latest run of each
deployment (``MonitorHistory(...).latest`` in the composition root), so the server that
exposes ``/metrics`` needs no import of monitoring beyond registering it. Results are cached
for ``ttl_s`` seconds (a scrape every few seconds does not query the database each time), and
a failing source sets ``cairn_monitor_up`` to 0 instead of failing the scrape.

Gauges (all traffic; per-segment results stay in the history and the report, which keeps the
number of series bounded):

* ``cairn_drift_psi{deployment,feature}`` — PSI of each model input and of ``score``;
* ``cairn_drift_band{deployment,feature}`` — 0 stable, 1 monitor, 2 drift;
* ``cairn_drift_error{deployment,feature}`` — 1 when the column could not be compared;
* ``cairn_drift_null_share{deployment,feature}`` — share of missing values in the window;
* ``cairn_model_performance{deployment,metric}`` — realized AUC, KS, precision, recall
  (judged windows only);
* ``cairn_label_completeness{deployment}`` — labeled share of the window's predictions;
* ``cairn_monitor_window_end_seconds{deployment,model,version}`` and
  ``cairn_monitor_rows{deployment}`` — which window the numbers describe;
* ``cairn_monitor_signals{deployment}`` — signals the latest run raised;
* ``cairn_monitor_up`` — 1 when the source answered at this scrape.

Example
-------
>>> from prometheus_client import CollectorRegistry, generate_latest
>>> registry = CollectorRegistry()
>>> registry.register(MonitoringCollector(lambda: []))
>>> b"cairn_monitor_up 1.0" in generate_latest(registry)
True
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from cairn.monitoring.runs import MonitorRun

logger = logging.getLogger("cairn.monitoring")

BAND_VALUES = {"stable": 0.0, "monitor": 1.0, "drift": 2.0}
LatestRuns = Callable[[], Sequence[MonitorRun]]


class MonitoringCollector(Collector):
    """The latest monitoring results as gauges.

    Parameters
    ----------
    latest:
        Returns the latest stored run of each deployment.
    ttl_s:
        How long one answer of ``latest`` is reused (0: every scrape asks).
    """

    def __init__(self, latest: LatestRuns, *, ttl_s: float = 30.0) -> None:
        self._latest = latest
        self._ttl = ttl_s
        self._lock = threading.Lock()
        self._cached: tuple[float, Sequence[MonitorRun]] | None = None

    def describe(self) -> Iterator[Metric]:
        """The metric names, without calling the source (registration must not hit the DB)."""
        yield from _families().values()

    def collect(self) -> Iterator[Metric]:
        """One sample per deployment and column of the latest runs."""
        fam = _families()
        try:
            runs = self._runs()
        except Exception:  # a failing source must not take /metrics down with it
            logger.exception("Reading the latest monitoring results failed")
            fam["up"].add_metric([], 0)
            yield fam["up"]
            return
        for run in runs:
            dep = run.deployment
            for f in run.results():
                labels = [dep, f.feature]
                fam["error"].add_metric(labels, 1.0 if f.status == "error" else 0.0)
                if f.status == "error":
                    continue
                if f.psi is not None:
                    fam["psi"].add_metric(labels, f.psi)
                if f.band in BAND_VALUES:
                    fam["band"].add_metric(labels, BAND_VALUES[f.band])
                if f.null_share_current is not None:
                    fam["nulls"].add_metric(labels, f.null_share_current)
            perf = run.performance
            if perf is not None and perf.status != "empty":
                fam["completeness"].add_metric([dep], perf.completeness)
                for metric, value in perf.metrics.items():
                    fam["performance"].add_metric([dep, metric], value)
            fam["window"].add_metric([dep, run.model_name, run.model_version], run.window.end / 1e6)
            fam["rows"].add_metric([dep], float(run.rows))
            fam["signals"].add_metric([dep], float(len(run.signals)))
        fam["up"].add_metric([], 1)
        yield from fam.values()

    def _runs(self) -> Sequence[MonitorRun]:
        with self._lock:
            now = time.monotonic()
            if self._cached is None or now - self._cached[0] >= self._ttl:
                self._cached = (now, list(self._latest()))
            return self._cached[1]


def _families() -> dict[str, GaugeMetricFamily]:
    feature = ["deployment", "feature"]
    return {
        "psi": GaugeMetricFamily(
            "cairn_drift_psi",
            "PSI of a model input (or the score) in the latest window.",
            labels=feature,
        ),
        "band": GaugeMetricFamily(
            "cairn_drift_band", "Drift band: 0 stable, 1 monitor, 2 drift.", labels=feature
        ),
        "error": GaugeMetricFamily(
            "cairn_drift_error",
            "1 when the column could not be compared (empty, all null).",
            labels=feature,
        ),
        "nulls": GaugeMetricFamily(
            "cairn_drift_null_share",
            "Share of missing values in the latest window.",
            labels=feature,
        ),
        "performance": GaugeMetricFamily(
            "cairn_model_performance",
            "Realized metric of the latest judged window (auc, ks, precision, recall).",
            labels=["deployment", "metric"],
        ),
        "completeness": GaugeMetricFamily(
            "cairn_label_completeness",
            "Share of the latest window's predictions with a label.",
            labels=["deployment"],
        ),
        "window": GaugeMetricFamily(
            "cairn_monitor_window_end_seconds",
            "End of the latest monitored window (seconds since the epoch).",
            labels=["deployment", "model", "version"],
        ),
        "rows": GaugeMetricFamily(
            "cairn_monitor_rows",
            "Predictions in the latest monitored window.",
            labels=["deployment"],
        ),
        "signals": GaugeMetricFamily(
            "cairn_monitor_signals",
            "Signals the latest monitoring run raised.",
            labels=["deployment"],
        ),
        "up": GaugeMetricFamily(
            "cairn_monitor_up", "1 when the monitoring results could be read at this scrape."
        ),
    }
