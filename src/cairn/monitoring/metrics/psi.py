"""PSI for monitoring: counting sorted values into a reference profile's bins, and the one PSI.

The PSI formula, the epsilon and the bands are :mod:`cairn.quality.psi`'s (one PSI for quality
and monitoring). This module adds what monitoring needs on top: counting *sorted* present
values into a profile's bins in ``O(bins · log n)`` with :func:`numpy.searchsorted`, for either
closure of the bins. Training profiles are right-closed (``side="left"``: a value equal to an
edge falls in the lower bin); quality profiles are left-closed (``side="right"``).

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

from cairn.quality.psi import BANDS, EPSILON, band, psi

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
    ``bin = searchsorted(edges, value, side)``.
    """
    cut: Side = "right" if side == "left" else "left"
    below = np.searchsorted(sorted_values, np.asarray(edges, dtype=np.float64), side=cut)
    bounds = np.concatenate(([0], below, [sorted_values.size])).astype(np.int64)
    return np.diff(bounds)
