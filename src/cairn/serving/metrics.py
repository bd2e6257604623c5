"""Prometheus metrics of one app: requests per route and status, and feature freshness.

Each app owns a :class:`~prometheus_client.CollectorRegistry` (not the global one), so tests and
embedders can build many apps in one process. Freshness is computed at scrape time from the
probe the composition root provides:

* ``cairn_feature_freshness_seconds{view}`` — now minus the view's materialization watermark;
* ``cairn_feature_max_event_age_seconds{view}`` — now minus the newest materialized event time;
* ``cairn_feature_freshness_up`` — 1 when the probe answered, 0 when it failed.

Views never materialized are left out.

With several worker processes (``cairn serve --workers N``) each worker counts its own requests;
the parent sets ``PROMETHEUS_MULTIPROC_DIR`` (prometheus_client's multiprocess mode) before the
workers start, so counters and histograms are kept in per-process files there, and whichever
worker answers a scrape sums every worker's files (:class:`WorkerFiles`). Every gauge of the
app is computed at scrape time by a collector, so it needs no merging, and no gauge lives in
the files (nothing to drop with ``mark_process_dead`` when a worker dies). A worker killed
with ``kill -9`` keeps its counts: its files stay and are summed with the others'.
"""

from __future__ import annotations

import glob
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from cairn.serving.protocols import FreshnessProbe

logger = logging.getLogger("cairn.serving")

LATENCY_BUCKETS = (
    0.0005,
    0.001,
    0.002,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
"""Seconds; finer than Prometheus' default below 5 ms, where the online read lives."""

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_LABELS = ("route", "method", "status")
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
"""Where prometheus_client keeps each process's counters when several workers serve."""


def multiprocess_dir() -> str | None:
    """The directory of prometheus_client's multiprocess mode, when this process is in it."""
    return os.environ.get(MULTIPROC_ENV) or None


class ServingMetrics:
    """Request counters and latency histograms, plus the freshness gauges.

    Parameters
    ----------
    freshness:
        The freshness probe; None leaves the freshness gauges out.
    clock:
        Seconds since the epoch (tests pass a fixed one).

    Example
    -------
    >>> m = ServingMetrics(lambda: {"profile": {"watermark": 10_000_000, "max_event": None}},
    ...                    clock=lambda: 70.0)
    >>> m.observe("/healthz", "GET", 200, 0.0001)
    >>> text = m.render().decode()
    >>> 'cairn_feature_freshness_seconds{view="profile"} 60.0' in text
    True
    >>> 'cairn_http_requests_total{method="GET",route="/healthz",status="200"} 1.0' in text
    True
    """

    def __init__(
        self, freshness: FreshnessProbe | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        self.registry = CollectorRegistry()
        """What a scrape exports: the counters and histograms, and the collectors computing
        gauges at scrape time (register those here)."""
        self._multiprocess = multiprocess_dir()
        self.values = self.registry if self._multiprocess is None else CollectorRegistry()
        """Where counters and histograms are created: :attr:`registry` in one process; in
        multiprocess mode a registry never scraped (the files of every worker are)."""
        self.requests = Counter(
            "cairn_http_requests", "HTTP requests answered.", _LABELS, registry=self.values
        )
        self.duration = Histogram(
            "cairn_http_request_duration_seconds",
            "Time from request to the end of the response.",
            _LABELS,
            buckets=LATENCY_BUCKETS,
            registry=self.values,
        )
        if freshness is not None:
            self.registry.register(FreshnessCollector(freshness, clock))
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count one answered request and its duration."""
        key = (route, method if method in _METHODS else "OTHER", status)
        pair = self._children.get(key)
        if pair is None:  # labels() takes a lock and builds a tuple; cache the children
            labels = (key[0], key[1], str(status))
            pair = (self.requests.labels(*labels), self.duration.labels(*labels))
            self._children[key] = pair
        pair[0].inc()
        pair[1].observe(seconds)

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric of this app (in multiprocess mode:
        the counters and histograms of every worker, summed, then this worker's gauges)."""
        if self._multiprocess is None:
            return generate_latest(self.registry)
        merged = CollectorRegistry()
        merged.register(WorkerFiles(self._multiprocess))
        return generate_latest(merged) + generate_latest(self.registry)


class WorkerFiles(Collector):
    """The counters and histograms of every worker's files in ``path``, summed (what
    :class:`MultiProcessCollector` collects), leaving out a file a worker is creating: it is
    empty until the worker sizes it, and prometheus_client fails on an empty file (a scrape
    while a new or restarted worker counts its first request would answer 500)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def collect(self) -> Iterable[Metric]:
        """Every worker's metrics, summed across workers."""
        files = [f for f in glob.glob(os.path.join(self.path, "*.db")) if _sized(f)]
        merge: Callable[..., Iterable[Metric]] = MultiProcessCollector.merge
        return merge(files, accumulate=True)


def _sized(path: str) -> bool:
    """Whether a worker's file has its header (a file never shrinks once sized)."""
    try:
        return os.path.getsize(path) >= 8
    except FileNotFoundError:
        return False


class FreshnessCollector(Collector):
    """Freshness gauges computed from the probe each time Prometheus scrapes."""

    def __init__(self, probe: FreshnessProbe, clock: Callable[[], float]) -> None:
        self._probe = probe
        self._clock = clock

    def describe(self) -> Iterator[Metric]:
        """The metric names, without calling the probe (registration must not hit the store)."""
        yield from self._families()

    def collect(self) -> Iterator[Metric]:
        """Freshness of every materialized view at this instant."""
        fresh, age, up = self._families()
        try:
            views = self._probe()
        except Exception:  # a failing probe must not take /metrics down with it
            logger.exception("The feature freshness probe failed")
            up.add_metric([], 0)
            yield up
            return
        now = self._clock()
        for view in sorted(views):
            marks = views[view]
            watermark, newest = marks.get("watermark"), marks.get("max_event")
            if watermark is not None:
                fresh.add_metric([view], now - watermark / 1e6)
            if newest is not None:
                age.add_metric([view], now - newest / 1e6)
        up.add_metric([], 1)
        yield from (fresh, age, up)

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily, GaugeMetricFamily]:
        return (
            GaugeMetricFamily(
                "cairn_feature_freshness_seconds",
                "Seconds since the view's materialization watermark.",
                labels=["view"],
            ),
            GaugeMetricFamily(
                "cairn_feature_max_event_age_seconds",
                "Seconds since the newest materialized event of the view.",
                labels=["view"],
            ),
            GaugeMetricFamily(
                "cairn_feature_freshness_up",
                "1 when the freshness probe answered at this scrape, else 0.",
            ),
        )
