"""What the decision engine reads besides the policy and the clock: monitoring observations and
manual requests, as plain values (the engine does no I/O).

An :class:`Observation` is one monitoring run of a deployment: the end of its window, the
signals it raised, and, when its performance was judged, its labeled rows and each metric's
drop from the training baseline. A run that raised nothing is an observation too: it is what
breaks a streak of drift.

Example
-------
>>> from cairn.core.signals import MonitoringSignal
>>> s = MonitoringSignal("drift", "credit", "m", "1", "income", 0.4, 0.25, "drift", at=10)
>>> o = Observation(run_id=7, deployment="credit", at=10, signals=(s,), labeled=120,
...                 drops={"auc": 0.04})
>>> o.subjects(("drift",), "drift"), o.subjects(("drift",), "monitor", segments=True)
(frozenset({'income'}), frozenset({'income'}))
>>> ManualRequest("nightly-2026-03-09", reason="airflow").key
'nightly-2026-03-09'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cairn.core.signals import MonitoringSignal
from cairn.core.types import Micros

__all__ = ["BAND_RANK", "ManualRequest", "Observation"]

BAND_RANK = {"stable": 0, "monitor": 1, "drift": 2, "degraded": 2}
"""Severity of a signal's band: ``band: monitor`` in a policy counts monitor and drift."""


@dataclass(frozen=True)
class Observation:
    """One monitoring run of a deployment, as the engine sees it.

    Parameters
    ----------
    run_id:
        The monitoring run's id (``cairn_monitor_runs.id``).
    deployment:
        The deployment monitored.
    at:
        The end of its window (µs since the epoch, UTC): observations are ordered by it.
    signals:
        The :class:`~cairn.core.signals.MonitoringSignal` values it raised.
    labeled:
        Labeled predictions its performance was judged on (0: not judged).
    drops:
        Metric -> baseline minus realized, for a judged window (empty otherwise).
    """

    run_id: int
    deployment: str
    at: Micros
    signals: tuple[MonitoringSignal, ...] = ()
    labeled: int = 0
    drops: Mapping[str, float] = field(default_factory=dict)

    def subjects(
        self, kinds: Sequence[str], band: str, *, segments: bool = False
    ) -> frozenset[str]:
        """The subjects (features; ``score`` for score drift) with a signal of one of
        ``kinds`` in ``band`` or a more severe one (whole traffic only unless ``segments``)."""
        least = BAND_RANK[band]
        return frozenset(
            s.subject
            for s in self.signals
            if s.kind in kinds
            and BAND_RANK.get(s.band, 0) >= least
            and (segments or s.segment is None)
        )


@dataclass(frozen=True)
class ManualRequest:
    """A person or an external scheduler asking for a run.

    Parameters
    ----------
    key:
        Names the request, and is the decision's window: asking twice with the same key is one
        run (an Airflow task retried, a command run twice). An external scheduler passes its
        run id or logical date.
    reason:
        Why (kept with the decision).
    by:
        Who asked (kept in the numbers).
    """

    key: str
    reason: str = "manual"
    by: str = ""

    def __post_init__(self) -> None:
        if not self.key.strip():
            raise ValueError("ManualRequest.key must be non-empty text (it names the run).")
