"""PSI for monitoring: the one PSI of :mod:`cairn.profiles`, and counting sorted values.

The formula, the epsilon and the bands live in :mod:`cairn.profiles.psi` (quality, training and
monitoring share them); the bins are :class:`cairn.profiles.NumericBins`. :func:`bin_counts`
counts *sorted* present values into plain edges in ``O(bins · log n)`` for either closure (kept
for callers of 0.1; profiles count with :meth:`~cairn.profiles.NumericBins.count_sorted`).

Example
-------
>>> import numpy as np
>>> values = np.array([1.0, 2.0, 2.0, 3.0, 4.0])
>>> bin_counts(values, [2.0, 3.0], side="left").tolist()
[3, 1, 1]
>>> bin_counts(values, [2.0, 3.0], side="right").tolist()
[1, 2, 2]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt

from cairn.profiles.psi import BANDS, EPSILON, band, psi

Side = Literal["left", "right"]

__all__ = ["BANDS", "EPSILON", "Side", "band", "bin_counts", "psi"]


def bin_counts(
    sorted_values: npt.NDArray[np.float64],
    edges: Sequence[float] | npt.NDArray[np.float64],
    *,
    side: Side,
) -> npt.NDArray[np.int64]:
    """Rows per bin of ``edges`` (``len(edges) + 1`` open-ended bins) of ascending values.

    ``side`` is the :func:`numpy.searchsorted` side that maps a value to its bin:
    ``bin = searchsorted(edges, value, side)`` (``left``: bins closed on the right).
    """
    cut: Side = "right" if side == "left" else "left"
    below = np.searchsorted(sorted_values, np.asarray(edges, dtype=np.float64), side=cut)
    bounds = np.concatenate(([0], below, [sorted_values.size])).astype(np.int64)
    return np.diff(bounds)
