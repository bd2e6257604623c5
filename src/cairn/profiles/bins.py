"""How a numeric column is cut into bins: value bins, quantile bins, point masses, one closure.

The rules (DESIGN §3.5, issue 17):

* a column with at most :data:`MAX_VALUE_BINS` (10) distinct finite reference values is binned
  **by value**: each reference value is its own bin, and every other value (new values, ±inf)
  falls in one ``other`` bin;
* otherwise every value holding at least :data:`POINT_MASS` (5 %) of the present reference
  values is a **point mass** with a bin of its own (a value sitting on a quantile edge with real
  mass always is one: a value holding 1/bins of the rows spans a quantile), and the rest is cut
  at its own quantiles (linear interpolation, repeated edges collapse) into its share of the
  ``bins``; the outer bins are open;
* every bin is **closed on the left**: ``[a, b)``. A point mass ``v`` is the bin
  ``[v, nextafter(v, +inf))``, so one closure serves intervals and points alike, in numpy
  (``searchsorted``) and in SQL (``count_if(x < cut)``);
* the bins are defined by the stored ``edges`` and ``points`` (kept at full precision: JSON
  round-trips a float64), and reference counts are computed from exactly those, so PSI(X, X)
  is exactly 0.

Missing values (null, NaN) are not binned here: profiles give them a bin of their own.

Example
-------
>>> import numpy as np
>>> indicator = np.array([1.0] * 967 + [0.0] * 33)
>>> b = numeric_bins(indicator)
>>> b.by_value, b.points.tolist(), b.labels()
(True, [0.0, 1.0], ['0', '1', '(other)'])
>>> b.count(np.array([1.0, 0.0, 0.0, 2.0])).tolist()
[2, 1, 1]
>>> rng = np.random.default_rng(0)
>>> sentinel = np.concatenate([np.full(400, -1.0), rng.normal(50, 10, 600)])
>>> b = numeric_bins(sentinel)
>>> b.points.tolist(), len(b.edges), b.labels()[:3]
([-1.0], 5, ['(-inf, -1)', '= -1', '(-1, 39.9717)'])
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Closed = Literal["left", "right"]

DEFAULT_BINS = 10
"""Quantile bins asked for by default."""

MAX_VALUE_BINS = 10
"""A column with at most this many distinct reference values is binned by value."""

POINT_MASS = 0.05
"""A value holding at least this share of the present reference values gets its own bin."""


@dataclass(frozen=True, eq=False)
class NumericBins:
    """The bins of one numeric column.

    Parameters
    ----------
    edges:
        Inner quantile edges, ascending and distinct (empty for value bins).
    points:
        Values with a bin of their own, ascending and distinct (every reference value, for
        value bins).
    by_value:
        Value bins: one bin per point, then one ``other`` bin for every other value.
    closed:
        ``left`` (``[a, b)``, every profile Cairn writes) or ``right`` (``(a, b]``: training
        profiles of format version 1, read as they were written).
    """

    edges: Floats
    points: Floats = field(default_factory=lambda: np.empty(0))
    by_value: bool = False
    closed: Closed = "left"
    cuts: Floats = field(init=False, repr=False)
    """Where the bins meet: ``edges``, each point and the next float above it, ascending."""
    slots: Ints = field(init=False, repr=False)
    """The bin of each interval between ``cuts`` (``len(cuts) + 1`` intervals)."""

    def __post_init__(self) -> None:
        edges = np.asarray(self.edges, dtype=np.float64)
        points = np.asarray(self.points, dtype=np.float64)
        object.__setattr__(self, "edges", edges)
        object.__setattr__(self, "points", points)
        if self.closed not in ("left", "right"):
            raise ValueError(f"closed must be 'left' or 'right'; got {self.closed!r}.")
        if self.closed == "right" and points.size:
            raise ValueError("point bins need left-closed bins (closed='left').")
        upper = np.nextafter(points, np.inf)
        cuts = np.unique(np.concatenate((edges, points, upper)))
        object.__setattr__(self, "cuts", cuts)
        object.__setattr__(self, "slots", self._slots(cuts, points, upper))

    def _slots(self, cuts: Floats, points: Floats, upper: Floats) -> Ints:
        lower = np.concatenate(([-np.inf], cuts))
        start = np.searchsorted(points, lower)  # which interval starts at a point...
        hit = start < points.size
        is_point = np.zeros(lower.size, dtype=bool)
        is_point[hit] = (points[start[hit]] == lower[hit]) & (
            np.append(cuts, np.inf)[hit] == upper[start[hit]]
        )  # ...and ends at the float right above it
        if not self.by_value:
            return np.arange(lower.size, dtype=np.int64)
        slots = np.full(lower.size, points.size, dtype=np.int64)  # the `other` bin
        slots[is_point] = start[is_point]
        return slots

    @property
    def size(self) -> int:
        """The number of bins (the missing bin not included)."""
        return int(self.points.size + 1) if self.by_value else int(self.cuts.size + 1)

    def count_sorted(self, ascending: Floats) -> Ints:
        """Values per bin of ascending present (non-NaN) values, in ``O(bins · log n)``."""
        below = np.searchsorted(
            ascending, self.cuts, side="left" if self.closed == "left" else "right"
        )
        return self.from_cumulative(below, int(ascending.size))

    def count(self, values: npt.ArrayLike) -> Ints:
        """Values per bin of present (non-NaN) values in any order."""
        x = np.asarray(values, dtype=np.float64)
        interval = np.searchsorted(self.cuts, x, side="right" if self.closed == "left" else "left")
        per_interval = np.bincount(interval, minlength=self.cuts.size + 1)
        return self._gather(per_interval)

    def from_cumulative(self, below: Sequence[int] | npt.ArrayLike, present: int) -> Ints:
        """Values per bin from the number of values below each cut (``x < cut``; ``x <= cut``
        when closed on the right) and the number of present values: what SQL counts."""
        bounds = np.concatenate(([0], np.asarray(below, dtype=np.int64), [present]))
        return self._gather(np.diff(bounds))

    def _gather(self, per_interval: npt.NDArray[np.integer]) -> Ints:
        if not self.by_value:
            return np.asarray(per_interval, dtype=np.int64)
        return np.bincount(self.slots, weights=per_interval, minlength=self.size).astype(np.int64)

    def labels(self) -> list[str]:
        """One label per bin: ``[a, b)`` intervals, ``= v`` points, value bins by their value."""
        if self.by_value:
            return [_fmt(v) for v in self.points] + ["(other)"]
        bounds = [-np.inf, *self.cuts, np.inf]
        points = set(self.points.tolist())
        out = []
        for a, b in itertools.pairwise(bounds):
            if a in points and b == np.nextafter(a, np.inf):
                out.append(f"= {_fmt(a)}")
            elif self.closed == "right":
                out.append(f"({_fmt(a)}, {_fmt(b)}" + (")" if b == np.inf else "]"))
            else:
                opened = a == -np.inf or np.nextafter(a, -np.inf) in points
                shown = np.nextafter(a, -np.inf) if opened and a != -np.inf else a
                out.append(("(" if opened else "[") + f"{_fmt(shown)}, {_fmt(b)})")
        return out

    def to_dict(self) -> dict[str, object]:
        """The stored form (full precision: JSON round-trips a float64)."""
        out: dict[str, object] = {
            "binning": "value" if self.by_value else "quantile",
            "closed": self.closed,
            "edges": self.edges.tolist(),
            "points": self.points.tolist(),
        }
        return out


def numeric_bins(values: npt.ArrayLike, bins: int = DEFAULT_BINS) -> NumericBins:
    """The bins of a reference column (present values; NaN and ±inf are ignored here).

    Parameters
    ----------
    values:
        The reference values, in any order.
    bins:
        Quantile bins asked for (at least 2); point masses get their own bins besides.
    """
    if bins < 2:
        raise ValueError(f"bins must be at least 2; got {bins}.")
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return NumericBins(np.empty(0))
    distinct, counts = np.unique(x, return_counts=True)
    if distinct.size <= MAX_VALUE_BINS:
        return NumericBins(np.empty(0), distinct, by_value=True)
    heavy = counts >= POINT_MASS * x.size
    points = distinct[heavy]
    rest = x[~np.isin(x, points)] if points.size else x
    if rest.size == 0:
        return NumericBins(np.empty(0), points)
    share = rest.size / x.size
    k = max(2, round(bins * share))
    edges = np.unique(np.quantile(rest, np.arange(1, k) / k))
    return NumericBins(edges, points)


def _fmt(value: float) -> str:
    return "-inf" if value == -np.inf else "+inf" if value == np.inf else f"{value:.6g}"
