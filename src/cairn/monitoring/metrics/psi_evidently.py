"""Evidently's PSI (0.7.x ``psi`` stattest), rewritten in numpy so users can reconcile numbers.

It differs from Cairn's PSI (:mod:`cairn.quality.psi`, DESIGN §3.5) in three ways:

* **bins**: a numeric column whose reference has more than 20 distinct values is cut into
  ``numpy.histogram_bin_edges(reference ∪ current, bins="sturges")`` equal-width bins over the
  range of *both* samples (so the bins move with the current data); otherwise, and for
  categorical columns, every distinct value of either side is a bin;
* **missing values** are dropped (and ±inf) instead of having a bin of their own;
* **empty bins** are filled *asymmetrically*: on each side separately a zero share becomes
  ``min(nonzero shares) / 10**6`` when that minimum is at most 1e-4, else 1e-4.

Then ``PSI = sum((ref - cur) · ln(ref / cur))``. Monitoring computes it against the profile's
reference *sample*, so it equals Evidently's number when the sample holds the whole reference.

Example
-------
>>> import numpy as np
>>> round(psi_evidently(["a", "a", "b"], ["a", "b", "b"], categorical=True), 6)
0.462098
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
MAX_VALUE_BINS = 20
"""A numeric reference with at most this many distinct values is binned by value."""


def evidently_shares(
    reference: Sequence[Any] | npt.NDArray[Any],
    current: Sequence[Any] | npt.NDArray[Any],
    *,
    categorical: bool = False,
) -> tuple[Floats, Floats]:
    """Evidently's bin shares of both samples (missing values dropped, empty bins not filled)."""
    ref, cur = _clean(reference, categorical), _clean(current, categorical)
    if ref.size == 0 or cur.size == 0:
        raise ValueError("psi_evidently needs present values on both sides.")
    if not categorical and np.unique(ref).size > MAX_VALUE_BINS:
        edges = np.histogram_bin_edges(np.concatenate((ref, cur)), bins="sturges")
        ref_counts = np.histogram(ref, edges)[0]
        cur_counts = np.histogram(cur, edges)[0]
    else:
        keys, inverse = np.unique(np.concatenate((ref, cur)), return_inverse=True)
        ref_counts = np.bincount(inverse[: ref.size], minlength=keys.size)
        cur_counts = np.bincount(inverse[ref.size :], minlength=keys.size)
    return ref_counts / ref.size, cur_counts / cur.size


def evidently_shares_sorted(reference: Floats, current: Floats) -> tuple[Floats, Floats]:
    """:func:`evidently_shares` of two ascending, finite numeric samples, without sorting them
    again: the same bins and counts, read with :func:`numpy.searchsorted` on the sorted values
    (what :func:`numpy.histogram` does after sorting its input).

    Example
    -------
    >>> import numpy as np
    >>> ref, cur = np.arange(30.0), np.arange(10.0, 40.0)
    >>> all((a == b).all() for a, b in zip(evidently_shares_sorted(ref, cur),
    ...                                    evidently_shares(ref, cur)))
    True
    """
    if reference.size == 0 or current.size == 0:
        raise ValueError("psi_evidently needs present values on both sides.")
    if _distinct_sorted(reference) > MAX_VALUE_BINS:
        edges = np.histogram_bin_edges(np.concatenate((reference, current)), bins="sturges")
        ref_counts, cur_counts = (
            _histogram_sorted(reference, edges),
            _histogram_sorted(current, edges),
        )
    else:
        merged = np.concatenate((reference, current))
        merged.sort(kind="stable")  # two ascending runs: one merge
        keys = merged[np.append(True, merged[1:] != merged[:-1])]
        ref_counts = _count_sorted(reference, keys)
        cur_counts = _count_sorted(current, keys)
    return ref_counts / reference.size, cur_counts / current.size


def psi_evidently(
    reference: Sequence[Any] | npt.NDArray[Any],
    current: Sequence[Any] | npt.NDArray[Any],
    *,
    categorical: bool = False,
) -> float:
    """Evidently's PSI of two raw samples (see the module docstring for its rules)."""
    ref, cur = evidently_shares(reference, current, categorical=categorical)
    return psi_from_shares(ref, cur)


def psi_evidently_from_counts(
    reference_counts: npt.ArrayLike, current_counts: npt.ArrayLike
) -> float:
    """Evidently's PSI of two count vectors over the same value bins (categorical columns).

    Example
    -------
    >>> round(psi_evidently_from_counts([2, 1], [1, 2]), 6)
    0.462098
    """
    ref = np.asarray(reference_counts, dtype=np.float64)
    cur = np.asarray(current_counts, dtype=np.float64)
    return psi_from_shares(ref / ref.sum(), cur / cur.sum())


def psi_from_shares(ref: Floats, cur: Floats) -> float:
    """Evidently's PSI of two share vectors over the same bins (empty bins filled per side)."""
    p, q = _fill_empty(ref), _fill_empty(cur)
    return float(np.sum((p - q) * np.log(p / q)))


def _fill_empty(shares: Floats) -> Floats:
    """Evidently's rule, per side: zero shares become min(nonzero)/1e6 if that is <= 1e-4."""
    smallest = float(shares[shares != 0].min())
    fill = smallest / 10**6 if smallest <= 0.0001 else 0.0001
    return np.where(shares == 0, fill, shares)


def _distinct_sorted(ascending: Floats) -> int:
    return int(np.count_nonzero(ascending[1:] != ascending[:-1])) + int(ascending.size > 0)


def _histogram_sorted(ascending: Floats, edges: Floats) -> npt.NDArray[np.int64]:
    """``numpy.histogram(ascending, edges)[0]`` of values within the edges: bins ``[a, b)``,
    the last one ``[a, b]``."""
    inner = np.searchsorted(ascending, edges[1:-1], side="left")
    return np.diff(np.concatenate(([0], inner, [ascending.size]))).astype(np.int64)


def _count_sorted(ascending: Floats, keys: Floats) -> npt.NDArray[np.int64]:
    """How many times each of ``keys`` occurs in ``ascending``."""
    right = np.searchsorted(ascending, keys, side="right")
    return (right - np.searchsorted(ascending, keys, side="left")).astype(np.int64)


def _clean(values: Sequence[Any] | npt.NDArray[Any], categorical: bool) -> npt.NDArray[Any]:
    if categorical:
        arr = np.asarray([v for v in values if v is not None and v == v], dtype=object)
        return arr.astype(str)
    x = np.asarray(values, dtype=np.float64)
    return x[np.isfinite(x)]
