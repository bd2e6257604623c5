"""Reference profiles: one builder, one binning, one stored format, one PSI (DESIGN §3.5).

A reference profile is what drift is measured against, so quality suites, training and
monitoring never need the raw reference data again: per column its bins and the reference rows
in each (numeric), or its most frequent categories (text and booleans), the missing rows, summary
statistics and a bounded sample; the model's score the same way; the label rate. Quality's PSI
check, the profile training logs with every model version and monitoring all build, store and
read profiles here, so the same data gets the same PSI everywhere.

Binning (:mod:`cairn.profiles.bins`): columns with at most 10 distinct values are binned by
value (plus ``other``), values holding at least 5 % of the rows get a bin of their own, the rest
is cut at quantiles; every bin is closed on the left, ``[a, b)``; missing values have a bin.

Example
-------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> ref = pd.DataFrame({"flag": (rng.random(5000) < 0.967).astype(float)})
>>> cur = pd.DataFrame({"flag": (rng.random(5000) < 0.343).astype(float)})
>>> profile = ReferenceProfile.build(ref)
>>> column = profile.column("flag")
>>> p, q = column.shares(), np.append(column.binning.count(cur["flag"]), 0) / len(cur)
>>> psi(p, p), band(psi(p, q))
(0.0, 'drift')
"""

from __future__ import annotations

from cairn.profiles._values import numeric_values, text_values
from cairn.profiles.bins import (
    DEFAULT_BINS,
    MAX_VALUE_BINS,
    POINT_MASS,
    NumericBins,
    numeric_bins,
)
from cairn.profiles.columns import (
    CategoricalReference,
    ColumnReference,
    NumericReference,
    column_reference,
)
from cairn.profiles.profile import (
    FORMAT,
    VERSION,
    ReferenceProfile,
    load_profile,
    save_profile,
)
from cairn.profiles.psi import BANDS, EPSILON, band, psi

__all__ = [
    "BANDS",
    "DEFAULT_BINS",
    "EPSILON",
    "FORMAT",
    "MAX_VALUE_BINS",
    "POINT_MASS",
    "VERSION",
    "CategoricalReference",
    "ColumnReference",
    "NumericBins",
    "NumericReference",
    "ReferenceProfile",
    "band",
    "column_reference",
    "load_profile",
    "numeric_bins",
    "numeric_values",
    "psi",
    "save_profile",
    "text_values",
]
