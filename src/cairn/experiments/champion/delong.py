"""ROC AUC with DeLong's variance, and DeLong's test for two correlated AUCs, in O(n log n).

DeLong, DeLong & Clarke-Pearson (1988) write the AUC as a Mann–Whitney statistic and its
variance through per-case *structural components*: for each positive, the share of negatives
it outranks (``V10``), and for each negative, the share of positives that outrank it
(``V01``), ties counting one half. Sun & Xu (2014) compute them from midranks instead of the
m x n comparison matrix: with ``T`` the midranks in the pooled sample and ``Tx``/``Ty`` those
within positives/negatives, ``V10 = (T_pos - Tx) / n`` and ``V01 = 1 - (T_neg - Ty) / m``.
The AUC covariance of several scores on the same cases is ``S10 / m + S01 / n`` (sample
covariances of the components), which gives the interval and the paired test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import norm

from cairn.core.errors import DataError


@dataclass(frozen=True)
class AucResult:
    """An AUC, its DeLong standard error and a normal interval (clipped to [0, 1])."""

    auc: float
    se: float
    ci: tuple[float, float]
    positives: int
    negatives: int


@dataclass(frozen=True)
class AucDifference:
    """DeLong's test of ``auc_b - auc_a`` on the same cases (paired)."""

    auc_a: float
    auc_b: float
    difference: float
    se: float
    ci: tuple[float, float]
    z: float
    p_value: float


def midranks(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """1-based ranks with ties sharing their average rank, in O(n log n).

    Example
    -------
    >>> midranks(np.array([0.3, 0.1, 0.3, 0.2])).tolist()
    [3.5, 1.0, 3.5, 2.0]
    """
    order = np.argsort(values, kind="mergesort")
    ordered = values[order]
    n = len(values)
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], n]
    averaged = (starts + ends + 1) / 2.0  # mean of the 1-based ranks start+1 .. end
    ranks = np.empty(n, dtype=np.float64)
    ranks[order] = np.repeat(averaged, ends - starts)
    return ranks


def structural_components(
    labels: ArrayLike, scores: ArrayLike
) -> tuple[float, NDArray[np.float64], NDArray[np.float64]]:
    """The AUC and DeLong's components ``V10`` (per positive) and ``V01`` (per negative).

    Example
    -------
    >>> auc, v10, v01 = structural_components([1, 1, 0, 0], [0.9, 0.4, 0.5, 0.1])
    >>> auc, v10.tolist(), v01.tolist()
    (0.75, [1.0, 0.5], [0.5, 1.0])
    """
    y, s = _checked(labels, scores)
    pos, neg = s[y], s[~y]
    m, n = len(pos), len(neg)
    pooled = midranks(np.concatenate([pos, neg]))
    v10 = (pooled[:m] - midranks(pos)) / n
    v01 = 1.0 - (pooled[m:] - midranks(neg)) / m
    auc = float((pooled[:m].sum() - m * (m + 1) / 2.0) / (m * n))
    return auc, v10, v01


def delong_auc(labels: ArrayLike, scores: ArrayLike, *, alpha: float = 0.05) -> AucResult:
    """ROC AUC of ``scores`` for the positive class (``labels`` true/1) with DeLong's interval.

    Example
    -------
    >>> r = delong_auc([1, 1, 0, 0, 1, 0], [0.9, 0.8, 0.3, 0.5, 0.4, 0.2])
    >>> round(r.auc, 4), r.positives, r.negatives
    (0.8889, 3, 3)
    """
    auc, v10, v01 = structural_components(labels, scores)
    m, n = len(v10), len(v01)
    var = _var(v10) / m + _var(v01) / n
    se = math.sqrt(max(var, 0.0))
    z = float(norm.ppf(1 - alpha / 2))
    return AucResult(auc, se, (max(0.0, auc - z * se), min(1.0, auc + z * se)), m, n)


def delong_test(
    labels: ArrayLike, scores_a: ArrayLike, scores_b: ArrayLike, *, alpha: float = 0.05
) -> AucDifference:
    """DeLong's two-sided test of AUC(b) - AUC(a) when both score the same cases.

    Example
    -------
    >>> y = [1, 1, 1, 0, 0, 0, 1, 0]
    >>> d = delong_test(y, [0.6, 0.7, 0.4, 0.5, 0.3, 0.2, 0.8, 0.45],
    ...                 [0.9, 0.8, 0.7, 0.3, 0.2, 0.1, 0.95, 0.35])
    >>> round(d.auc_a, 4), d.auc_b, round(d.difference, 4)
    (0.875, 1.0, 0.125)
    """
    auc_a, v10_a, v01_a = structural_components(labels, scores_a)
    auc_b, v10_b, v01_b = structural_components(labels, scores_b)
    m, n = len(v10_a), len(v01_a)
    s10 = np.cov(np.vstack([v10_a, v10_b])) if m > 1 else np.zeros((2, 2))
    s01 = np.cov(np.vstack([v01_a, v01_b])) if n > 1 else np.zeros((2, 2))
    cov = s10 / m + s01 / n
    var = float(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1])
    se = math.sqrt(max(var, 0.0))
    diff = auc_b - auc_a
    z_crit = float(norm.ppf(1 - alpha / 2))
    if se == 0:
        z, p = (0.0, 1.0) if diff == 0 else (math.copysign(math.inf, diff), 0.0)
    else:
        z = diff / se
        p = float(2 * norm.sf(abs(z)))
    return AucDifference(auc_a, auc_b, diff, se, (diff - z_crit * se, diff + z_crit * se), z, p)


def _var(values: NDArray[np.float64]) -> float:
    return float(np.var(values, ddof=1)) if len(values) > 1 else 0.0


def _checked(labels: ArrayLike, scores: ArrayLike) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
    y = np.asarray(labels, dtype=np.float64)
    s = np.asarray(scores, dtype=np.float64)
    if y.shape != s.shape or y.ndim != 1:
        raise DataError(
            f"labels and scores must be 1-d and the same length; got {y.shape} and {s.shape}."
        )
    if not (np.isfinite(y).all() and np.isfinite(s).all()):
        raise DataError("labels and scores must be finite numbers (no NaN or inf).")
    positive = y > 0
    m = int(positive.sum())
    if m == 0 or m == len(y):
        raise DataError(f"An AUC needs both classes; got {m} positives and {len(y) - m} negatives.")
    return positive, s
