"""Sample-ratio mismatch: do the units per arm fit the configured traffic weights?

Pearson's χ² goodness of fit with ``k - 1`` degrees of freedom (gbstats ``check_srm``); arms
with weight 0 are left out of the sum, as gbstats does. A p-value below the threshold (0.001 by
default) means the assignment or logging is broken and the experiment's results are suspect.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from cairn.experiments.stats._checks import check_alpha
from cairn.experiments.stats.results import SrmResult


def _invalid(counts: Sequence[int], weights: Sequence[float]) -> str | None:
    if len(counts) != len(weights):
        return f"weights do not match the arms: {len(counts)} counts but {len(weights)} weights"
    if len(counts) < 2:
        return f"need at least two arms; got {len(counts)}"
    if any(not math.isfinite(c) or c < 0 for c in counts):
        return f"counts must be non-negative numbers; got {list(counts)}"
    if any(not math.isfinite(w) or w < 0 for w in weights) or sum(weights) <= 0:
        return f"weights must be non-negative with a positive sum; got {list(weights)}"
    return None


def srm(counts: Sequence[int], weights: Sequence[float], *, threshold: float = 0.001) -> SrmResult:
    """Check the units per arm against the arm weights.

    Parameters
    ----------
    counts : sequence of int
        Units observed per arm.
    weights : sequence of float
        Configured traffic weights per arm (any scale; normalised here).
    threshold : float
        Flag a mismatch when the p-value is below this.

    Returns
    -------
    SrmResult
        With ``error`` set (p-value 1, no mismatch) when counts and weights do not fit.

    Example
    -------
    >>> res = srm([5_000, 5_200], [0.5, 0.5])
    >>> round(res.chi2, 4), round(res.p_value, 4), res.mismatch
    (3.9216, 0.0477, False)
    >>> srm([5_000, 5_600], [0.5, 0.5]).mismatch
    True
    """
    threshold = check_alpha(threshold, name="threshold")
    problem = _invalid(counts, weights)
    if problem is not None:
        return SrmResult(1.0, 0.0, False, (), problem)
    total = float(sum(counts))
    weight_sum = float(sum(weights))
    expected = tuple(w / weight_sum * total for w in weights)
    if total == 0:
        return SrmResult(1.0, 0.0, False, expected, None)
    stat = sum((o - e) ** 2 / e for o, e in zip(counts, expected, strict=True) if e > 0)
    from scipy.stats import chi2 as chi2_dist  # here: a server importing drift stays cheap

    p = float(chi2_dist.sf(stat, len(counts) - 1))
    return SrmResult(p, float(stat), p < threshold, expected, None)
