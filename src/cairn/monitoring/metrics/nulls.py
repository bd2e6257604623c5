"""Has the share of missing values changed? The two-proportion z-test of
:func:`cairn.profiles.shares.two_proportion_p` (pooled, two-sided).

Example
-------
>>> round(null_share_test(50, 1000, 50, 1000), 6), null_share_test(10, 1000, 300, 1000) < 1e-9
(1.0, True)
"""

from __future__ import annotations

from cairn.profiles.shares import two_proportion_p


def null_share_test(
    reference_missing: int, reference_rows: int, current_missing: int, current_rows: int
) -> float | None:
    """Two-sided p-value that both sides have the same missing share (None without rows)."""
    if reference_rows <= 0 or current_rows <= 0:
        return None
    return two_proportion_p(reference_missing, reference_rows, current_missing, current_rows)
