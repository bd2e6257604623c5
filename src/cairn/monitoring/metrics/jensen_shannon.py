"""Jensen–Shannon distance (base 2) between two distributions over the same bins.

The square root of the Jensen–Shannon divergence: 0 for identical distributions, 1 for disjoint
ones (base 2). Inputs are normalised to sum to 1, as ``scipy.spatial.distance.jensenshannon``
does; empty bins need no epsilon.

Example
-------
>>> js_distance([1.0, 0.0], [0.0, 1.0]), js_distance([3, 1], [3, 1])
(1.0, 0.0)
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def js_distance(p: npt.ArrayLike, q: npt.ArrayLike, *, base: float = 2.0) -> float:
    """Jensen–Shannon distance of two non-negative weight vectors of the same bins."""
    a = np.asarray(p, dtype=np.float64)
    b = np.asarray(q, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"p and q need the same bins; got {a.size} and {b.size}.")
    a = a / a.sum()
    b = b / b.sum()
    m = (a + b) / 2.0
    from scipy.special import rel_entr  # here: importing monitoring stays cheap

    divergence = (rel_entr(a, m).sum() + rel_entr(b, m).sum()) / 2.0
    return float(np.sqrt(max(divergence / np.log(base), 0.0)))
