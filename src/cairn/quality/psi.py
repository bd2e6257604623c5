"""Population Stability Index on reference-quantile bins (DESIGN §3.5), in numpy.

This module is the one PSI of Cairn: quality suites use it against stored reference profiles,
and monitoring reuses it. The rules:

* numeric columns are cut at the reference's quantiles ``i / bins`` (linear interpolation,
  ``numpy.quantile``'s default; repeated edges collapse), with **open outer bins**
  ``(-inf, e1)`` … ``[e_k, +inf)``; a value ``v`` falls in bin ``j`` when
  ``e_j <= v < e_{j+1}``;
* categorical columns get one bin per reference category and one for **unseen** categories;
* every column gets a bin for **missing** values (null, NaN);
* proportions are over all rows, missing included, so a column's bins add up to 1;
* one symmetric **epsilon** (1e-4) floors both sides: ``p = max(p, eps)``, ``q = max(q, eps)``,
  then ``PSI = sum((q - p) * ln(q / p))``.

Bands: below 0.1 stable, 0.1 to 0.25 monitor, above 0.25 drift.

Example
-------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> ref, cur = rng.normal(0, 1, 10_000), rng.normal(0.8, 1, 10_000)
>>> edges = quantile_edges(ref)
>>> p, q = numeric_proportions(ref, edges), numeric_proportions(cur, edges)
>>> round(psi(p, p), 6), band(psi(p, q))
(0.0, 'drift')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

EPSILON = 1e-4
DEFAULT_BINS = 10
BANDS = (0.1, 0.25)

Floats = npt.NDArray[np.float64]


def quantile_edges(values: npt.ArrayLike, bins: int = DEFAULT_BINS) -> list[float]:
    """The inner bin edges of a reference: its quantiles ``1/bins … (bins-1)/bins`` over
    present values, repeated edges removed (empty when nothing is present)."""
    if bins < 2:
        raise ValueError(f"bins must be at least 2; got {bins}.")
    x = _present(values)
    if x.size == 0:
        return []
    qs = np.quantile(x, np.arange(1, bins) / bins)
    return [float(e) for e in np.unique(qs)]


def numeric_proportions(values: npt.ArrayLike, edges: Sequence[float]) -> Floats:
    """Shares of rows per bin of ``edges`` (``len(edges) + 1`` open-ended bins), then missing."""
    arr = np.asarray(values, dtype=np.float64)
    missing = np.isnan(arr)
    index = np.searchsorted(np.asarray(edges, dtype=np.float64), arr[~missing], side="right")
    counts = np.bincount(index, minlength=len(edges) + 1).astype(np.float64)
    return _shares(np.append(counts, float(missing.sum())), arr.size)


def categorical_proportions(values: Sequence[Any], categories: Sequence[str]) -> Floats:
    """Shares of rows per reference category (compared as text), then unseen, then missing."""
    position = {c: i for i, c in enumerate(categories)}
    counts = np.zeros(len(categories) + 2, dtype=np.float64)
    for v in values:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            counts[-1] += 1
        else:
            counts[position.get(as_category(v), len(categories))] += 1
    return _shares(counts, len(values))


def as_category(value: Any) -> str:
    """The text form a category is compared by (booleans as ``true``/``false``, like SQL)."""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    return str(value)


def psi(expected: npt.ArrayLike, actual: npt.ArrayLike, eps: float = EPSILON) -> float:
    """PSI between two proportion vectors of the same bins, both floored at ``eps``.

    Example
    -------
    >>> round(psi([0.5, 0.5, 0.0], [0.4, 0.6, 0.0]), 6)
    0.040547
    """
    p = np.maximum(np.asarray(expected, dtype=np.float64), eps)
    q = np.maximum(np.asarray(actual, dtype=np.float64), eps)
    if p.shape != q.shape:
        raise ValueError(f"expected and actual need the same bins; got {p.size} and {q.size}.")
    return float(np.sum((q - p) * np.log(q / p)))


def band(value: float, thresholds: tuple[float, float] = BANDS) -> str:
    """``stable`` below the first threshold, ``drift`` above the second, else ``monitor``."""
    if value < thresholds[0]:
        return "stable"
    return "drift" if value > thresholds[1] else "monitor"


def _present(values: npt.ArrayLike) -> Floats:
    x = np.asarray(values, dtype=np.float64)
    return x[~np.isnan(x)]


def _shares(counts: Floats, total: int) -> Floats:
    return counts / total if total else np.zeros_like(counts)
