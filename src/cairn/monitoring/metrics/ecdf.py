"""Both empirical CDFs on the merged sorted values of two samples: what KS and Wasserstein share.

With ``u`` and ``v`` sorted, :func:`ecdf_grid` merges them once and evaluates both CDFs at every
point (``searchsorted(..., side="right")``, as scipy does). KS is the largest gap between the
two CDFs; the 1-D Wasserstein distance is the area between them. Computing the grid once per
column serves both, and sorted queries keep :func:`numpy.searchsorted` cache-friendly.

Example
-------
>>> import numpy as np
>>> g = ecdf_grid(np.array([1.0, 2.0]), np.array([2.0, 3.0]))
>>> g.values.tolist(), g.cdf_u.tolist(), g.cdf_v.tolist()
([1.0, 2.0, 2.0, 3.0], [0.5, 1.0, 1.0, 1.0], [0.0, 0.5, 0.5, 1.0])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class EcdfGrid:
    """The merged sorted ``values`` of two samples and each sample's CDF at every one."""

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
    """The two empirical CDFs on the merged values of two ascending, non-empty samples."""
    merged = np.concatenate((u_sorted, v_sorted))
    merged.sort()
    cdf_u = np.searchsorted(u_sorted, merged, side="right") / u_sorted.size
    cdf_v = np.searchsorted(v_sorted, merged, side="right") / v_sorted.size
    return EcdfGrid(merged, cdf_u, cdf_v)
