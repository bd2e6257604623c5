"""Calibration and paired differences: Brier score, reliability table, KS, precision/recall.

Scores are probabilities of the positive outcome (a label of 1: a default, a subscription);
``threshold`` is the deployment's operating point: ``score >= threshold`` makes its positive
decision (decline for credit, follow_up for an outreach model), so precision and recall are
those of the positive decision.
:func:`paired_difference` compares two models on the same cases through the per-case
difference, so the correlation between them shrinks the interval as it should.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray


@dataclass(frozen=True)
class ReliabilityBin:
    """Cases whose score falls in ``[low, high)``: mean score and observed positive rate."""

    low: float
    high: float
    count: int
    mean_score: float
    observed_rate: float


@dataclass(frozen=True)
class Classification:
    """Metrics of a score at an operating threshold over labeled cases."""

    ks: float
    precision: float | None
    recall: float | None
    brier: float
    expected_calibration_error: float
    reliability: list[ReliabilityBin]


@dataclass(frozen=True)
class PairedDifference:
    """Mean of ``b - a`` over paired cases, with a normal interval and two-sided p-value."""

    a: float
    b: float
    difference: float
    se: float
    ci: tuple[float, float]
    p_value: float | None
    n: int


def reliability_table(
    labels: ArrayLike, scores: ArrayLike, *, bins: int = 10
) -> list[ReliabilityBin]:
    """Equal-width score bins on [0, 1] (the last one closed); empty bins are left out.

    Example
    -------
    >>> [(b.count, b.observed_rate) for b in reliability_table([0, 1, 1], [0.1, 0.15, 0.9], bins=2)]
    [(2, 0.5), (1, 1.0)]
    """
    y = np.asarray(labels, dtype=np.float64) > 0
    s = np.clip(np.asarray(scores, dtype=np.float64), 0.0, 1.0)
    index = np.minimum((s * bins).astype(np.int64), bins - 1)
    count = np.bincount(index, minlength=bins)
    score_sum = np.bincount(index, weights=s, minlength=bins)
    positive = np.bincount(index, weights=y.astype(np.float64), minlength=bins)
    return [
        ReliabilityBin(
            k / bins,
            (k + 1) / bins,
            int(count[k]),
            float(score_sum[k] / count[k]),
            float(positive[k] / count[k]),
        )
        for k in range(bins)
        if count[k]
    ]


def ks_statistic(labels: ArrayLike, scores: ArrayLike) -> float:
    """Two-sample Kolmogorov–Smirnov distance between the positives' and negatives' scores.

    Example
    -------
    >>> ks_statistic([1, 1, 0, 0], [0.9, 0.8, 0.2, 0.1])
    1.0
    """
    y = np.asarray(labels, dtype=np.float64) > 0
    s = np.asarray(scores, dtype=np.float64)
    pos, neg = np.sort(s[y]), np.sort(s[~y])
    if len(pos) == 0 or len(neg) == 0:
        return 0.0
    grid = np.unique(s)
    cdf_pos = np.searchsorted(pos, grid, side="right") / len(pos)
    cdf_neg = np.searchsorted(neg, grid, side="right") / len(neg)
    return float(np.max(np.abs(cdf_pos - cdf_neg)))


def classification(
    labels: ArrayLike, scores: ArrayLike, threshold: float, *, bins: int = 10
) -> Classification:
    """KS, precision and recall of the positive decision (``score >= threshold``), Brier score,
    calibration error and table.

    Example
    -------
    >>> c = classification([1, 0, 1, 0], [0.8, 0.6, 0.3, 0.1], threshold=0.5)
    >>> c.precision, c.recall, round(c.brier, 4)
    (0.5, 0.5, 0.225)
    """
    y = np.asarray(labels, dtype=np.float64) > 0
    s = np.asarray(scores, dtype=np.float64)
    flagged = s >= threshold
    hits = int((flagged & y).sum())
    precision = hits / int(flagged.sum()) if flagged.any() else None
    recall = hits / int(y.sum()) if y.any() else None
    table = reliability_table(y, s, bins=bins)
    total = max(len(s), 1)
    ece = sum(b.count / total * abs(b.observed_rate - b.mean_score) for b in table)
    return Classification(
        ks=ks_statistic(y, s),
        precision=precision,
        recall=recall,
        brier=float(brier_terms(y, s).mean()) if len(s) else math.nan,
        expected_calibration_error=float(ece),
        reliability=table,
    )


def brier_terms(labels: ArrayLike, scores: ArrayLike) -> NDArray[np.float64]:
    """Per-case squared error ``(score - label)²`` (their mean is the Brier score)."""
    y = (np.asarray(labels, dtype=np.float64) > 0).astype(np.float64)
    return np.square(np.asarray(scores, dtype=np.float64) - y)


def paired_difference(a: ArrayLike, b: ArrayLike, *, alpha: float = 0.05) -> PairedDifference:
    """Mean of ``b - a`` over cases, with its standard error from the per-case differences.

    Example
    -------
    >>> d = paired_difference([1, 0, 1, 1], [1, 1, 1, 1])
    >>> d.difference, d.a, d.b
    (0.25, 0.75, 1.0)
    """
    x = np.asarray(a, dtype=np.float64)
    z = np.asarray(b, dtype=np.float64)
    n = len(x)
    if n == 0:
        return PairedDifference(
            math.nan, math.nan, math.nan, math.nan, (math.nan, math.nan), None, 0
        )
    from scipy.stats import norm  # here: the monitoring service imports this module

    d = z - x
    diff = float(d.mean())
    se = float(d.std(ddof=1) / math.sqrt(n)) if n > 1 else 0.0
    half = float(norm.ppf(1 - alpha / 2)) * se
    if se > 0:
        p: float | None = float(2 * norm.sf(abs(diff) / se))
    else:
        p = 1.0 if diff == 0 else None
    return PairedDifference(
        float(x.mean()), float(z.mean()), diff, se, (diff - half, diff + half), p, n
    )
