"""The reference profile a training run logs with its model (``reference_profile.json``).

Training profiles the rows named by ``reference.rows`` (validation by default) and the model's
scores on them with :meth:`cairn.profiles.ReferenceProfile.build`, the one builder quality and
monitoring use too, and logs its stored form (:mod:`cairn.profiles.profile`, format version 2).
Monitoring reads it back with :meth:`~cairn.profiles.ReferenceProfile.from_dict`, so it never
needs the raw training data.

Example
-------
>>> import numpy as np, pandas as pd
>>> X = pd.DataFrame({"income": np.arange(100.0), "term": [12.0, 36.0] * 50})
>>> p = reference_profile(X, np.linspace(0, 1, 100), categorical=set(), sample=10)
>>> p["version"], p["columns"]["term"]["binning"], p["columns"]["term"]["counts"]
(2, 'value', [50, 50, 0])
>>> len(p["columns"]["income"]["edges"]), p["score"]["kind"], p["reference_rows"]
(9, 'numeric', 'validation')
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from cairn.profiles import DEFAULT_BINS, ReferenceProfile
from cairn.profiles.columns import MAX_CATEGORIES


def reference_profile(
    X: pd.DataFrame | pa.Table,
    scores: npt.NDArray[np.float64] | None,
    *,
    categorical: set[str],
    bins: int = DEFAULT_BINS,
    sample: int = 1000,
    seed: int = 0,
    rows: str = "validation",
    labels: npt.NDArray[np.int64] | None = None,
    top_k: int = MAX_CATEGORIES,
) -> dict[str, Any]:
    """The stored profile of every feature of ``X``, of the model's ``scores`` on the same rows
    (None: no score profile) and of the label rate of ``labels``.

    Parameters
    ----------
    X:
        The reference rows' model inputs (pandas or Arrow).
    scores:
        The model's scores on those rows.
    categorical:
        Features profiled as categories.
    bins, sample, seed, top_k:
        Quantile bins, sample size per column, its seed, categories kept per column.
    rows:
        Which rows these are (``train``, ``validation`` or ``all``), stored as
        ``reference_rows``.
    labels:
        The labels of those rows (0/1), whose positive rate is stored.
    """
    profile = ReferenceProfile.build(
        X, categorical=categorical, scores=scores, bins=bins, sample=sample, seed=seed,
        top_k=top_k, labels=labels if labels is not None and len(labels) else None,
        meta={"reference_rows": rows},
    )  # fmt: skip
    return profile.to_dict()
