"""The PSI of quality suites: :mod:`cairn.profiles.psi`, the one PSI of Cairn (DESIGN §3.5).

Kept so ``from cairn.quality.psi import psi`` goes on working (removed in 0.3). Binning lives in
:mod:`cairn.profiles.bins`, profiles in :mod:`cairn.profiles`.

Example
-------
>>> round(psi([0.5, 0.5], [0.4, 0.6]), 6), band(0.3)
(0.040547, 'drift')
"""

from __future__ import annotations

from cairn.profiles.bins import DEFAULT_BINS
from cairn.profiles.psi import BANDS, EPSILON, band, psi

__all__ = ["BANDS", "DEFAULT_BINS", "EPSILON", "band", "psi"]
