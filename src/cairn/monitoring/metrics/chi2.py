"""Two-sample χ² test of homogeneity over bins (a 2 × k contingency table).

Both the reference and the current counts are samples: the expected count of a cell is
``row total · column total / n``, and bins empty on both sides are dropped. This is
``scipy.stats.chi2_contingency(table, correction=False)``. It is *not* the goodness-of-fit test
that treats the reference shares as exact (what Evidently's ``chisquare`` stattest does, which
flags identical distributions once samples are large, because the reference's own sampling
noise is counted as drift).

Example
-------
>>> stat, p, dof = chi2_two_sample([50, 50], [50, 50])
>>> stat, p, dof
(0.0, 1.0, 1)
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def chi2_two_sample(
    reference_counts: npt.ArrayLike, current_counts: npt.ArrayLike
) -> tuple[float, float | None, int]:
    """χ² statistic, p-value and degrees of freedom of two count vectors over the same bins.

    The p-value is None when fewer than two bins hold any rows or a side has no rows.
    """
    ref = np.asarray(reference_counts, dtype=np.float64)
    cur = np.asarray(current_counts, dtype=np.float64)
    if ref.shape != cur.shape:
        raise ValueError(f"counts need the same bins; got {ref.size} and {cur.size}.")
    keep = (ref + cur) > 0
    table = np.vstack((ref[keep], cur[keep]))
    rows, cols = table.sum(axis=1), table.sum(axis=0)
    dof = int(keep.sum()) - 1
    if dof < 1 or rows.min() == 0:
        return 0.0, None, max(dof, 0)
    expected = np.outer(rows, cols) / table.sum()
    stat = float(((table - expected) ** 2 / expected).sum())
    from scipy.special import chdtrc  # here: importing monitoring stays cheap

    return stat, float(chdtrc(dof, stat)), dof  # scipy.stats.chi2.sf, without its checks
