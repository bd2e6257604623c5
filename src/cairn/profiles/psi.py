"""The one Population Stability Index of Cairn (DESIGN §3.5): formula, epsilon and bands.

``PSI = sum((q - p) * ln(q / p))`` over the bins of a reference profile (see
:mod:`cairn.profiles.bins`), where ``p`` are the reference shares and ``q`` the current ones,
both floored at one symmetric epsilon (1e-4): ``p = max(p, eps)``, ``q = max(q, eps)``. Shares
are over all rows, the missing bin included, so a column's bins add up to 1. Quality suites,
training profiles and monitoring all call this function.

Bands: below 0.1 stable, 0.1 to 0.25 monitor, above 0.25 drift.

Example
-------
>>> round(psi([0.5, 0.5, 0.0], [0.4, 0.6, 0.0]), 6), band(0.3)
(0.040547, 'drift')
>>> psi([0.2, 0.8], [0.2, 0.8])
0.0
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

EPSILON = 1e-4
"""The floor of both sides' shares (one symmetric epsilon)."""

BANDS = (0.1, 0.25)
"""PSI below the first is stable, above the second drift, between them monitor."""


def psi(expected: npt.ArrayLike, actual: npt.ArrayLike, eps: float = EPSILON) -> float:
    """PSI between two share vectors over the same bins, both floored at ``eps``.

    Parameters
    ----------
    expected:
        The reference shares per bin.
    actual:
        The current shares per bin (same length).
    eps:
        The floor of both sides (DESIGN §3.5: 1e-4).

    Example
    -------
    >>> round(psi([0.9, 0.1], [0.5, 0.5]), 4)
    0.8789
    """
    p = np.maximum(np.asarray(expected, dtype=np.float64), eps)
    q = np.maximum(np.asarray(actual, dtype=np.float64), eps)
    if p.shape != q.shape:
        raise ValueError(f"expected and actual need the same bins; got {p.size} and {q.size}.")
    return float(np.sum((q - p) * np.log(q / p)))


def band(value: float, thresholds: tuple[float, float] = BANDS) -> str:
    """``stable`` below the first threshold, ``drift`` above the second, else ``monitor``.

    Example
    -------
    >>> band(0.05), band(0.2), band(0.26)
    ('stable', 'monitor', 'drift')
    """
    if value < thresholds[0]:
        return "stable"
    return "drift" if value > thresholds[1] else "monitor"
