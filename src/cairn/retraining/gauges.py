"""Prometheus gauges of the retraining policies, computed when Prometheus scrapes.

:class:`RetrainingCollector` reads through a callable that returns one
:class:`~cairn.retraining.status.PolicyReading` per policy (:func:`retraining_collector` wires
:func:`~cairn.retraining.status.project_readings` over a project: ``retraining.yaml``, the
ledger and the monitoring history), so ``cairn serve`` only registers it. Readings are cached
for ``ttl_s`` seconds (a scrape every few seconds does not query the database each time), and
a failing source sets ``cairn_retraining_up`` to 0 instead of failing the scrape. A project
without ``retraining.yaml`` shows ``cairn_retraining_up 1`` alone.

Gauges, per policy:

* ``cairn_retraining_next_slot_seconds{policy,deployment}`` — the next schedule slot (seconds
  since the epoch; absent without a schedule);
* ``cairn_retraining_cooldown_seconds{policy}`` — cooldown left since the last run (0: none);
* ``cairn_retraining_budget_used{policy}`` and ``cairn_retraining_budget_max{policy}`` — runs
  decided in the budget's period, and the most it allows;
* ``cairn_retraining_in_flight{policy}`` — 1 while a run is under way, else 0;
* ``cairn_retraining_entries{policy,state}`` — ledger entries per state (every state, 0s too);
* ``cairn_retraining_last_decision_seconds{policy,trigger,action}`` — when the latest decision
  of each trigger and action was taken (seconds since the epoch);
* ``cairn_retraining_up`` — 1 when the policies could be read at this scrape.

Example
-------
>>> from prometheus_client import CollectorRegistry, generate_latest
>>> registry = CollectorRegistry()
>>> registry.register(RetrainingCollector(lambda: []))
>>> b"cairn_retraining_up 1.0" in generate_latest(registry)
True
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from cairn.retraining.status import PolicyReading, RetrainingProject, project_readings

__all__ = ["Readings", "RetrainingCollector", "retraining_collector"]

logger = logging.getLogger("cairn.retraining")

Readings = Callable[[], Sequence[PolicyReading]]
"""Returns one reading per policy (its status and its whole ledger's counts)."""


class RetrainingCollector(Collector):
    """The retraining policies as gauges.

    Parameters
    ----------
    source:
        Returns one :class:`~cairn.retraining.status.PolicyReading` per policy.
    ttl_s:
        How long one answer of ``source`` is reused (0: every scrape asks).
    """

    def __init__(self, source: Readings, *, ttl_s: float = 30.0) -> None:
        self._source = source
        self._ttl = ttl_s
        self._lock = threading.Lock()
        self._cached: tuple[float, Sequence[PolicyReading]] | None = None

    def describe(self) -> Iterator[Metric]:
        """The metric names, without calling the source (registration must not hit the DB)."""
        yield from _families().values()

    def collect(self) -> Iterator[Metric]:
        """One sample per policy (and state, and trigger and action) of the readings."""
        fam = _families()
        try:
            readings = self._readings()
        except Exception:  # a failing source must not take /metrics down with it
            logger.exception("Reading the retraining policies failed")
            fam["up"].add_metric([], 0)
            yield fam["up"]
            return
        for r in readings:
            s = r.status
            name = [s.policy]
            if s.next_slot is not None:
                fam["next_slot"].add_metric([s.policy, s.deployment], s.next_slot / 1e6)
            fam["cooldown"].add_metric(name, s.cooldown_left_s)
            fam["budget_used"].add_metric(name, float(s.runs_in_period))
            fam["budget_max"].add_metric(name, float(s.max_runs))
            fam["in_flight"].add_metric(name, 1.0 if r.in_flight else 0.0)
            for state, count in r.states.items():
                fam["entries"].add_metric([s.policy, state], float(count))
            for (trigger, action), at in sorted(r.last_decided.items()):
                fam["last_decision"].add_metric([s.policy, trigger, action], at / 1e6)
        fam["up"].add_metric([], 1)
        yield from fam.values()

    def _readings(self) -> Sequence[PolicyReading]:
        with self._lock:
            now = time.monotonic()
            if self._cached is None or now - self._cached[0] >= self._ttl:
                self._cached = (now, list(self._source()))
            return self._cached[1]


def retraining_collector(project: RetrainingProject, *, ttl_s: float = 30.0) -> RetrainingCollector:
    """The Prometheus collector of a project's retraining policies, for ``cairn serve``
    (``app.state.metrics.registry.register(retraining_collector(project))``): it reads
    ``retraining.yaml``, the ledger and the monitoring history at scrape time, at most every
    ``ttl_s``.

    Example
    -------
    >>> import tempfile, pathlib
    >>> from prometheus_client import CollectorRegistry, generate_latest
    >>> from cairn.app import Project
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (root / "cairn.yaml").write_text("project: demo")
    >>> registry = CollectorRegistry()
    >>> registry.register(retraining_collector(Project.open(root)))
    >>> [line for line in generate_latest(registry).decode().splitlines()
    ...  if not line.startswith("#")]  # no retraining.yaml: no policy
    ['cairn_retraining_up 1.0']
    """
    return RetrainingCollector(lambda: project_readings(project), ttl_s=ttl_s)


def _families() -> dict[str, GaugeMetricFamily]:
    policy = ["policy"]
    return {
        "next_slot": GaugeMetricFamily(
            "cairn_retraining_next_slot_seconds",
            "Next scheduled retraining slot (seconds since the epoch).",
            labels=["policy", "deployment"],
        ),
        "cooldown": GaugeMetricFamily(
            "cairn_retraining_cooldown_seconds",
            "Seconds of cooldown left since the policy's last run (0: none).",
            labels=policy,
        ),
        "budget_used": GaugeMetricFamily(
            "cairn_retraining_budget_used",
            "Runs decided in the budget's period.",
            labels=policy,
        ),
        "budget_max": GaugeMetricFamily(
            "cairn_retraining_budget_max",
            "Most runs the budget allows per period.",
            labels=policy,
        ),
        "in_flight": GaugeMetricFamily(
            "cairn_retraining_in_flight",
            "1 while a run of the policy is under way, else 0.",
            labels=policy,
        ),
        "entries": GaugeMetricFamily(
            "cairn_retraining_entries",
            "Ledger entries of the policy in each state.",
            labels=["policy", "state"],
        ),
        "last_decision": GaugeMetricFamily(
            "cairn_retraining_last_decision_seconds",
            "When the latest decision of each trigger and action was taken (seconds since "
            "the epoch).",
            labels=["policy", "trigger", "action"],
        ),
        "up": GaugeMetricFamily(
            "cairn_retraining_up", "1 when the retraining policies could be read at this scrape."
        ),
    }
