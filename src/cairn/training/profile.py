"""The reference profile monitoring compares live traffic with (DESIGN §3.5).

Per feature: quantile bin edges (10 bins by default), the share of rows in each bin, the share
of missing values and a bounded sample; per text feature the share of each category; and the
same for the model's scores. Monitoring never needs the raw training data.

Bins are right-closed with open outer bins: a value ``v`` falls in bin
``numpy.searchsorted(edges, v, side="left")``, so ``v <= edges[0]`` is bin 0 and
``v > edges[-1]`` the last bin. ``proportions`` are shares of *all* reference rows, so
``sum(proportions) + missing == 1``. Edges are the distinct quantiles, so a feature with few
distinct values has fewer bins.

Example
-------
>>> import numpy as np
>>> p = numeric_profile(np.array([1.0, 2, 3, 4, np.nan]), bins=2, sample=10, seed=0)
>>> p["edges"], p["proportions"], p["missing"]
([2.5], [0.4, 0.4], 0.2)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

PROFILE_VERSION = 1
BINNING = "right-closed, open outer bins: bin = numpy.searchsorted(edges, value, side='left')"
MAX_CATEGORIES = 100


def numeric_profile(
    values: npt.NDArray[np.float64], *, bins: int, sample: int, seed: int
) -> dict[str, Any]:
    """Edges, bin shares, missing share, summary statistics and a sample of one column."""
    values = np.asarray(values, dtype=np.float64)
    n = len(values)
    present = values[~np.isnan(values)]
    if len(present) == 0:
        return {"kind": "numeric", "rows": n, "missing": 1.0 if n else 0.0, "edges": [],
                "proportions": [], "sample": []}  # fmt: skip
    qs = np.quantile(present, np.arange(1, bins) / bins)
    edges = np.unique(qs)
    counts = np.bincount(np.searchsorted(edges, present, side="left"), minlength=len(edges) + 1)
    rng = np.random.default_rng(seed)
    chosen = present if len(present) <= sample else rng.choice(present, size=sample, replace=False)
    return {
        "kind": "numeric",
        "rows": n,
        "missing": _r(1 - len(present) / n),
        "edges": [_r(e) for e in edges],
        "proportions": [_r(c / n) for c in counts],
        "mean": _r(float(present.mean())),
        "std": _r(float(present.std())),
        "min": _r(float(present.min())),
        "max": _r(float(present.max())),
        "sample": [_r(v) for v in np.sort(chosen)],
    }


def categorical_profile(values: pd.Series, *, sample: int, seed: int) -> dict[str, Any]:
    """Category shares (of all rows), missing share and a sample of one text column."""
    n = len(values)
    text = values.astype("string")
    present = text.dropna()
    counts = present.value_counts()
    shares = {str(k): _r(int(v) / n) for k, v in counts.head(MAX_CATEGORIES).items()}
    other = int(counts.iloc[MAX_CATEGORIES:].sum()) if len(counts) > MAX_CATEGORIES else 0
    rng = np.random.default_rng(seed)
    pool = present.to_numpy(dtype=object)
    chosen = pool if len(pool) <= sample else rng.choice(pool, size=sample, replace=False)
    return {
        "kind": "categorical",
        "rows": n,
        "missing": _r(1 - len(present) / n) if n else 0.0,
        "categories": shares,
        "other": _r(other / n) if n else 0.0,
        "sample": sorted(str(v) for v in chosen),
    }


def reference_profile(
    X: pd.DataFrame,
    scores: npt.NDArray[np.float64],
    *,
    categorical: set[str],
    bins: int = 10,
    sample: int = 1000,
    seed: int = 0,
    rows: str = "validation",
    labels: npt.NDArray[np.int64] | None = None,
) -> dict[str, Any]:
    """The profile of every feature of ``X`` and of the model's ``scores`` on the same rows."""
    features: dict[str, Any] = {}
    for i, name in enumerate(X.columns):
        col = X[name]
        if name in categorical:
            features[name] = categorical_profile(col, sample=sample, seed=seed + i)
        else:
            values = col.to_numpy(dtype=np.float64, na_value=np.nan)
            features[name] = numeric_profile(values, bins=bins, sample=sample, seed=seed + i)
    out: dict[str, Any] = {
        "version": PROFILE_VERSION,
        "rows": len(X),
        "reference_rows": rows,
        "bins": bins,
        "binning": BINNING,
        "features": features,
        "score": numeric_profile(
            np.asarray(scores, dtype=np.float64),
            bins=bins,
            sample=sample,
            seed=seed + len(features),
        ),
    }
    if labels is not None and len(labels):
        out["label"] = {"positive_rate": _r(float(np.mean(labels))), "rows": len(labels)}
    return out


def _r(value: float) -> float:
    return float(round(float(value), 10))
