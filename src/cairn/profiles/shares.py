"""Has a share changed? The pooled two-proportion z-test, two-sided: one test for every share
Cairn compares — the missing share of a column against its reference, a label rate against
training's, the label rates of two training parts.

Example
-------
>>> round(two_proportion_p(50, 1000, 50, 1000), 6), two_proportion_p(10, 1000, 300, 1000) < 1e-9
(1.0, True)
"""

from __future__ import annotations

import math


def two_proportion_p(k1: int, n1: int, k2: int, n2: int) -> float:
    """Two-sided p-value that ``k1 / n1`` and ``k2 / n2`` are one share (1.0 when both are 0
    or both 1). Both counts need rows (``n1``, ``n2`` > 0).

    >>> round(two_proportion_p(65, 1000, 202, 1000), 12) < 1e-12
    True
    """
    pooled = (k1 + k2) / (n1 + n2)
    if pooled <= 0.0 or pooled >= 1.0:
        return 1.0
    se = math.sqrt(pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2))
    diff = k2 / n2 - k1 / n1
    from scipy.special import ndtr  # here: importing profiles stays cheap

    return float(2.0 * ndtr(-abs(diff) / se))  # scipy.stats.norm.sf, without its checks
