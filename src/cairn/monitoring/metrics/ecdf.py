"""Both empirical CDFs at the distinct values of two samples: what KS and Wasserstein share.

With ``u`` and ``v`` sorted, :func:`ecdf_grid` evaluates ``#{u <= x} / |u|`` and
``#{v <= x} / |v|`` (``searchsorted(..., side="right")``, as scipy computes them) at every
distinct value ``x`` of either sample. When the samples hold few distinct values (ties: ages,
counts, sentinels) it searches just those; otherwise it merges the samples in linear time (a
stable sort of two ascending runs is one merge pass), remembers which sample each value came
from and reads both CDFs off running counts at the last copy of every distinct value, without a
binary search per value. KS is the largest gap between the two CDFs; the 1-D
Wasserstein distance is the area between them (between two distinct values both CDFs are flat,
so the distinct values carry the whole area). Computing the grid once per column serves both.

Example
-------
>>> import numpy as np
>>> g = ecdf_grid(np.array([1.0, 2.0]), np.array([2.0, 3.0]))
>>> g.values.tolist(), g.cdf_u.tolist(), g.cdf_v.tolist()
([1.0, 2.0, 3.0], [0.5, 1.0, 1.0], [0.0, 0.5, 1.0])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class EcdfGrid:
    """The distinct ``values`` of two samples, ascending, and each sample's CDF at every one."""

    values: Floats
    cdf_u: Floats
    cdf_v: Floats


def ascending(values: npt.ArrayLike) -> Floats:
    """``values`` as float64, sorted ascending (no copy when they already are: an O(n) check).

    Example
    -------
    >>> ascending([3, 1, 2]).tolist(), ascending([1, 2, 3]).tolist()
    ([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    """
    x = np.asarray(values, dtype=np.float64)
    if x.size > 1 and not bool(np.all(x[1:] >= x[:-1])):
        x = np.sort(x)
    return x


def ecdf_grid(u_sorted: Floats, v_sorted: Floats) -> EcdfGrid:
    """The two empirical CDFs at the distinct values of two ascending, non-empty samples."""
    n_u, n_v = u_sorted.size, v_sorted.size
    distinct_u, distinct_v = _distinct(u_sorted), _distinct(v_sorted)
    if distinct_u.size + distinct_v.size <= (n_u + n_v) // 4:  # many ties: search the few values
        values = np.union1d(distinct_u, distinct_v)
        below_u = np.searchsorted(u_sorted, values, side="right")
        return EcdfGrid(values, below_u / n_u, np.searchsorted(v_sorted, values, "right") / n_v)
    merged = np.concatenate((u_sorted, v_sorted))
    order = np.argsort(merged, kind="stable")  # two ascending runs: a linear merge
    merged = merged[order]
    last = np.flatnonzero(merged[1:] != merged[:-1])  # the last copy of each distinct value...
    last = np.append(last, merged.size - 1)  # ...and of the largest
    from_u = np.cumsum(order < n_u)[last]  # values of u up to and including each
    cdf_u: Floats = from_u / n_u
    cdf_v: Floats = (last + 1 - from_u) / n_v
    return EcdfGrid(merged[last], cdf_u, cdf_v)


def _distinct(ascending: Floats) -> Floats:
    """The distinct values of an ascending array (the last copy of each), in linear time."""
    out: Floats = ascending[np.append(ascending[1:] != ascending[:-1], True)]
    return out
