"""The reference profile monitoring compares live traffic with (DESIGN §3.5).

Per feature: quantile bin edges (10 bins by default), the share of rows in each bin, the share
of missing values and a bounded sample; per text feature the share of each of the ``top_k``
most frequent categories (100 by default) and of all ``other`` ones; and the same for the
model's scores. Monitoring never needs the raw training data (:mod:`cairn.monitoring` reads
this format as a :class:`~cairn.monitoring.ReferenceProfile`).

Besides shares, a profile keeps the row counts behind them (``counts``, ``missing_count``,
``other_count``; for text features ``distinct``, the number of distinct categories): the
two-sample χ² test of monitoring needs counts, not shares.

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
import pyarrow as pa

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
                "proportions": [], "sample": [], "counts": [], "missing_count": n}  # fmt: skip
    finite = present[np.isfinite(present)]  # ±inf only count in the outer bins
    edges = np.unique(np.quantile(finite, np.arange(1, bins) / bins)) if len(finite) else finite
    counts = np.bincount(np.searchsorted(edges, present, side="left"), minlength=len(edges) + 1)
    rng = np.random.default_rng(seed)
    chosen = present if len(present) <= sample else rng.choice(present, size=sample, replace=False)
    return {
        "kind": "numeric",
        "rows": n,
        "missing": _r(1 - len(present) / n),
        "edges": [_r(e) for e in edges],
        "proportions": [_r(c / n) for c in counts],
        **_summary(finite),
        "sample": [_r(v) for v in np.sort(chosen)],
        "counts": [int(c) for c in counts],
        "missing_count": n - len(present),
    }


def categorical_profile(
    values: pd.Series, *, sample: int, seed: int, top_k: int = MAX_CATEGORIES
) -> dict[str, Any]:
    """Shares (of all rows) of the ``top_k`` most frequent categories and of the ``other``
    ones, the missing share and a sample of one text column."""
    n = len(values)
    text = values.astype("string")
    present = text.dropna()
    counts = present.value_counts()
    top = counts.head(top_k)
    shares = {str(k): _r(int(v) / n) for k, v in top.items()}
    other = int(counts.iloc[top_k:].sum()) if len(counts) > top_k else 0
    rng = np.random.default_rng(seed)
    if len(present) <= sample:
        chosen = present.to_numpy(dtype=object)
    else:  # the same draw as choosing from the values, without boxing every value first
        chosen = present.iloc[rng.choice(len(present), size=sample, replace=False)].to_numpy(
            dtype=object
        )
    return {
        "kind": "categorical",
        "rows": n,
        "missing": _r(1 - len(present) / n) if n else 0.0,
        "categories": shares,
        "other": _r(other / n) if n else 0.0,
        "sample": sorted(str(v) for v in chosen),
        "counts": {str(k): int(v) for k, v in top.items()},
        "other_count": other,
        "missing_count": n - len(present),
        "distinct": len(counts),
    }


def reference_profile(
    X: pd.DataFrame | pa.Table,
    scores: npt.NDArray[np.float64] | None,
    *,
    categorical: set[str],
    bins: int = 10,
    sample: int = 1000,
    seed: int = 0,
    rows: str = "validation",
    labels: npt.NDArray[np.int64] | None = None,
    top_k: int = MAX_CATEGORIES,
) -> dict[str, Any]:
    """The profile of every feature of ``X`` and of the model's ``scores`` on the same rows
    (``scores=None``: no score profile). An Arrow table is read one column at a time."""
    features: dict[str, Any] = {}
    names = X.column_names if isinstance(X, pa.Table) else list(X.columns)
    for i, name in enumerate(names):
        col = X.column(name).to_pandas() if isinstance(X, pa.Table) else X[name]
        if name in categorical:
            features[name] = categorical_profile(col, sample=sample, seed=seed + i, top_k=top_k)
        else:
            values = col.to_numpy(dtype=np.float64, na_value=np.nan)
            features[name] = numeric_profile(values, bins=bins, sample=sample, seed=seed + i)
    out: dict[str, Any] = {
        "version": PROFILE_VERSION,
        "rows": X.num_rows if isinstance(X, pa.Table) else len(X),
        "reference_rows": rows,
        "bins": bins,
        "binning": BINNING,
        "features": features,
    }
    if scores is not None:
        out["score"] = numeric_profile(
            np.asarray(scores, dtype=np.float64),
            bins=bins,
            sample=sample,
            seed=seed + len(features),
        )
    if labels is not None and len(labels):
        out["label"] = {"positive_rate": _r(float(np.mean(labels))), "rows": len(labels)}
    return out


def _summary(finite: npt.NDArray[np.float64]) -> dict[str, float | None]:
    if not len(finite):
        return {"mean": None, "std": None, "min": None, "max": None}
    return {
        "mean": _r(float(finite.mean())),
        "std": _r(float(finite.std())),
        "min": _r(float(finite.min())),
        "max": _r(float(finite.max())),
    }


def _r(value: float) -> float:
    return float(round(float(value), 10))
