"""TreeSHAP contributions from LightGBM's native ``pred_contrib`` and per-feature references.

``booster.predict(X, pred_contrib=True)`` returns, per row, one exact TreeSHAP value per
feature plus the expected value (bias) in the last column, in raw-score (log-odds) units: the
values ``shap.TreeExplainer(booster).shap_values(X)`` computes, and they add up to the raw score.
The booster is passed in (any object with LightGBM's ``predict`` and ``trees_to_dataframe``), so
this module never imports LightGBM itself.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

FloatMatrix = npt.NDArray[np.float64]


def tree_contributions(booster: Any, X: FloatMatrix) -> FloatMatrix:
    """TreeSHAP values of each row: shape ``(rows, features + 1)``, bias last.

    Example
    -------
    >>> import lightgbm as lgb
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3)); y = (X[:, 0] > 0).astype(int)
    >>> b = lgb.train({"objective": "binary", "verbose": -1}, lgb.Dataset(X, y), 5)
    >>> phi = tree_contributions(b, X[:2])
    >>> bool(np.allclose(phi.sum(axis=1), b.predict(X[:2], raw_score=True)))
    True
    """
    out = booster.predict(X, pred_contrib=True, num_threads=1)
    return np.asarray(out, dtype=np.float64)


def split_references(booster: Any) -> dict[str, float]:
    """Per numeric feature, the count-weighted median of the model's split thresholds.

    A value above it is "high", below it "low": the point the model itself treats as the
    middle of the feature. Categorical features and features never split on are left out.
    """
    trees = booster.trees_to_dataframe()
    splits = trees[trees["split_feature"].notna() & (trees["decision_type"] == "<=")]
    refs: dict[str, float] = {}
    for name, group in splits.groupby("split_feature"):
        thresholds = group["threshold"].astype(np.float64).to_numpy()
        weights = group["count"].astype(np.float64).to_numpy()
        order = np.argsort(thresholds)
        cumulative = np.cumsum(weights[order])
        middle = int(np.searchsorted(cumulative, cumulative[-1] / 2))
        refs[str(name)] = float(thresholds[order][middle])
    return refs
