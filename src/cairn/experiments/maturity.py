"""Delayed outcomes: which units are mature, how complete their labels are, and when to wait.

A row of the prediction log is *mature* for a metric when ``time + maturity <= as_of``: its
outcome window has closed. Labels count only when observed by ``as_of`` (``observed_at <=
as_of``), so rerunning an analysis "as of" a past moment reproduces what was known then. Per
arm, *label completeness* is the share of mature units with at least one observed label. An
outcome metric is *immature* — no verdict, only the reason — when an arm has no mature unit or
its completeness is below the project's threshold (``min_completeness``, default 0.8).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from cairn.experiments.metrics import Metric


@dataclass(frozen=True)
class Completeness:
    """Mature and labeled units of one arm for one metric's maturity window.

    ``labeled_units`` is counted for metrics that read outcomes only (0 otherwise).

    Example
    -------
    >>> Completeness("control", units=10, mature_units=8, labeled_units=6).share
    0.75
    """

    arm: str
    units: int
    mature_units: int
    labeled_units: int

    @property
    def share(self) -> float | None:
        """Labeled share of the mature units (None without mature units)."""
        return self.labeled_units / self.mature_units if self.mature_units else None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (with ``share``)."""
        return {**asdict(self), "share": self.share}


def maturity_cutoff(as_of: datetime, window: Metric | int) -> datetime:
    """The latest prediction time that is mature at ``as_of`` for a metric (or a window in µs).

    Example
    -------
    >>> from datetime import UTC
    >>> m = Metric("d", "proportion", "label > 0", maturity=86_400_000_000)
    >>> maturity_cutoff(datetime(2026, 3, 2, tzinfo=UTC), m).isoformat()
    '2026-03-01T00:00:00+00:00'
    """
    micros = window.maturity if isinstance(window, Metric) else window
    return as_of - timedelta(microseconds=micros)


def immature_reason(
    metric: Metric, completeness: Sequence[Completeness], min_completeness: float
) -> str | None:
    """Why ``metric`` cannot be judged yet, or None when every arm is mature enough.

    Example
    -------
    >>> m = Metric("d", "proportion", "label > 0", maturity=86_400_000_000)
    >>> arms = [Completeness("a", 5, 5, 5), Completeness("b", 5, 4, 2)]
    >>> immature_reason(m, arms, 0.8)
    'immature: label completeness in arm b is 50% (2 of 4 mature units), below 80%'
    """
    window = f"older than {metric.maturity_text}" if metric.maturity else "in the experiment"
    for c in completeness:
        if c.mature_units == 0:
            return f"immature: arm {c.arm} has no mature units ({window}) yet"
    if not metric.uses_outcome:
        return None
    for c in completeness:
        share = c.share or 0.0
        if share < min_completeness:
            return (
                f"immature: label completeness in arm {c.arm} is {share:.0%} "
                f"({c.labeled_units} of {c.mature_units} mature units), "
                f"below {min_completeness:.0%}"
            )
    return None
