"""Has the share of missing values changed? A two-proportion z-test (pooled, two-sided).

Example
-------
>>> round(null_share_test(50, 1000, 50, 1000), 6), null_share_test(10, 1000, 300, 1000) < 1e-9
(1.0, True)
"""

from __future__ import annotations

import math

from scipy.special import ndtr


def null_share_test(
    reference_missing: int, reference_rows: int, current_missing: int, current_rows: int
) -> float | None:
    """Two-sided p-value that both sides have the same missing share (None without rows)."""
    if reference_rows <= 0 or current_rows <= 0:
        return None
    pooled = (reference_missing + current_missing) / (reference_rows + current_rows)
    if pooled <= 0.0 or pooled >= 1.0:
        return 1.0
    diff = current_missing / current_rows - reference_missing / reference_rows
    se = math.sqrt(pooled * (1.0 - pooled) * (1.0 / reference_rows + 1.0 / current_rows))
    return float(2.0 * ndtr(-abs(diff) / se))  # scipy.stats.norm.sf, without its checks
