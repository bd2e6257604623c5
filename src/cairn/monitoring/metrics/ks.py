"""Two-sample Kolmogorov–Smirnov test, equal to ``scipy.stats.ks_2samp`` (two-sided).

The statistic is the largest gap between the two empirical CDFs, read off a shared
:class:`~cairn.monitoring.metrics.ecdf.EcdfGrid`. The p-value follows scipy's ``method``:
``auto`` is exact when both samples have at most 10,000 values (then scipy itself computes it,
on small inputs, falling back to asymptotics when that fails) and otherwise uses Smirnov's
asymptotic distribution ``scipy.stats.kstwo.sf(d, round(n·m / (n + m)))``.

Example
-------
>>> import numpy as np, scipy.stats
>>> rng = np.random.default_rng(0)
>>> a, b = rng.normal(size=20_000), rng.normal(0.05, 1, size=30_000)
>>> d, p = ks_2samp(a, b)  # any order: samples are sorted unless they already are
>>> bool((d, p) == tuple(scipy.stats.ks_2samp(a, b)))
True
"""

from __future__ import annotations

import warnings
from typing import Literal

import numpy as np
import numpy.typing as npt

from cairn.monitoring.metrics.ecdf import EcdfGrid, ascending, ecdf_grid

MAX_EXACT = 10_000
"""``method="auto"`` is exact up to this many values per sample (scipy's ``MAX_AUTO_N``)."""

Method = Literal["auto", "exact", "asymp"]


def ks_2samp(
    u: npt.ArrayLike,
    v: npt.ArrayLike,
    *,
    method: Method = "auto",
    grid: EcdfGrid | None = None,
) -> tuple[float, float]:
    """KS statistic and two-sided p-value of two non-empty samples.

    Parameters
    ----------
    u, v:
        The samples, without NaN, in any order (sorted here unless they already are).
    method:
        ``auto``, ``exact`` or ``asymp``, as in :func:`scipy.stats.ks_2samp`.
    grid:
        The samples' :func:`~cairn.monitoring.metrics.ecdf.ecdf_grid`, when already computed
        (then ``u`` and ``v`` must be the ascending samples it was computed from).
    """
    u_sorted = np.asarray(u, dtype=np.float64) if grid is not None else ascending(u)
    v_sorted = np.asarray(v, dtype=np.float64) if grid is not None else ascending(v)
    n1, n2 = u_sorted.size, v_sorted.size
    if min(n1, n2) == 0:
        raise ValueError("ks_2samp needs two non-empty samples.")
    import scipy.stats  # here: importing the monitoring package stays cheap (0.7 s)

    if method == "exact" or (method == "auto" and max(n1, n2) <= MAX_EXACT):
        with warnings.catch_warnings():  # scipy falls back to asymp when exact fails; so do we
            warnings.filterwarnings("ignore", "ks_2samp: Exact calculation", RuntimeWarning)
            result = scipy.stats.ks_2samp(u_sorted, v_sorted, method=method)
        return float(result.statistic), float(result.pvalue)
    g = grid if grid is not None else ecdf_grid(u_sorted, v_sorted)
    gaps = g.cdf_u - g.cdf_v
    below = float(np.clip(-gaps.min(), 0.0, 1.0))
    above = float(gaps.max())
    d = below if below > above else above
    m, n = sorted((float(n1), float(n2)), reverse=True)
    p = float(scipy.stats.kstwo.sf(d, np.round(m * n / (m + n))))
    return d, float(np.clip(p, 0.0, 1.0))
