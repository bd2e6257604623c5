"""Global feature importance: mean |SHAP| for tree boosters, permutation AUC loss otherwise.

For LightGBM the SHAP values are the booster's own TreeSHAP (``pred_contrib=True``), the same
numbers reason codes use, averaged in absolute value over a bounded sample of rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

PERMUTATION_ROWS = 500
"""Permutation importance re-scores the sample twice per feature: keep it small."""


@dataclass(frozen=True)
class Importance:
    """Feature -> importance, largest first, and how it was measured."""

    method: str
    values: dict[str, float]
    rows: int
    expected_value: float | None = None
    """The model's mean raw output (the SHAP base value), when known."""

    def top(self, k: int = 10) -> list[tuple[str, float]]:
        """The ``k`` most important features."""
        return list(self.values.items())[:k]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (logged as ``importance.json``)."""
        return {
            "method": self.method,
            "rows": self.rows,
            "expected_value": self.expected_value,
            "values": dict(self.values),
        }


def sample_rows(n: int, size: int, seed: int) -> np.ndarray:
    """At most ``size`` sorted row positions out of ``n``, drawn with ``seed``."""
    if n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False))


def shap_importance(booster: Any, X: pd.DataFrame, *, sample: int, seed: int) -> Importance:
    """Mean |SHAP contribution| per feature from LightGBM's TreeSHAP."""
    rows = sample_rows(len(X), sample, seed)
    contrib = np.asarray(booster.predict(X.iloc[rows], pred_contrib=True))
    mean_abs = np.abs(contrib[:, :-1]).mean(axis=0)
    values = _ranked(list(X.columns), mean_abs)
    return Importance("mean_abs_shap", values, len(rows), float(contrib[:, -1].mean()))


def permutation_importance(
    estimator: Any, X: pd.DataFrame, y: np.ndarray, *, sample: int, seed: int
) -> Importance:
    """Mean drop in AUC when a feature is shuffled (scikit-learn's permutation importance),
    for estimators without a native TreeSHAP."""
    from sklearn.inspection import permutation_importance as permute

    rows = sample_rows(len(X), min(sample, PERMUTATION_ROWS), seed)
    result = permute(
        estimator, X.iloc[rows], y[rows], scoring="roc_auc", n_repeats=2, random_state=seed
    )
    values = _ranked(list(X.columns), np.asarray(result.importances_mean))
    return Importance("permutation_auc", values, len(rows))


def _ranked(names: list[str], values: np.ndarray) -> dict[str, float]:
    order = np.argsort(-values, kind="stable")
    return {names[i]: float(values[i]) for i in order}
