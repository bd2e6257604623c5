"""The XGBoost family: a native ``xgboost.Booster`` behind the serving
:class:`~cairn.serving.scorers.Scorer` protocol.

The booster is trained on the float matrix serving builds (numbers as they are, a categorical
feature as its level index with ``feature_types`` ``"c"``, missing as NaN), so the served matrix
is exactly the training input: ``inplace_predict`` on it gives the same scores as offline.
Contributions are XGBoost's exact TreeSHAP (``pred_contribs=True``: one column per feature,
the bias **last**). XGBoost computes them in float32, so their float64 sum is off the margin by
float32 rounding (about 1e-6); that residue is added to the bias column, and the contributions
add up to :meth:`XGBoostScorer.margin` exactly. Every call uses one thread (the server's
workers are the parallelism).

Example
-------
>>> import xgboost as xgb
>>> rng = np.random.default_rng(0)
>>> X = np.column_stack([rng.normal(size=300), rng.integers(0, 3, size=300).astype(float)])
>>> X[::7, 0] = np.nan
>>> y = ((np.nan_to_num(X[:, 0]) > 0) | (X[:, 1] == 2)).astype(int)
>>> d = xgb.DMatrix(X, y, feature_names=["income", "segment"], feature_types=["float", "c"],
...                 enable_categorical=True)
>>> s = XGBoostScorer(xgb.train({"objective": "binary:logistic", "seed": 0}, d, 5))
>>> phi = s.contributions(X[:4])
>>> bool(np.all(np.abs(phi.sum(axis=1) - s.margin(X[:4])) < 1e-12)), phi.shape
(True, (4, 3))
>>> bool(np.all(s.predict(X[:4]) == s.booster.predict(xgb.DMatrix(X[:4], feature_names=[
...     "income", "segment"], feature_types=["float", "c"], enable_categorical=True))))
True
>>> sorted(s.references()), s.family, s.units
(['income'], 'xgboost', 'log-odds')
>>> gain = s.gain(); gain.shape, bool(gain.sum() > 0)
((2,), True)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from cairn.core.errors import ConfigError

__all__ = ["MODEL_FILES", "XGBoostScorer", "load_xgboost"]

FloatMatrix = npt.NDArray[np.float64]
MODEL_FILES = ("model.ubj", "model.json")
"""The native booster files of MLflow's xgboost flavor that serving loads (never a pickle)."""


class XGBoostScorer:
    """A native ``xgboost.Booster``: probabilities, log-odds and exact TreeSHAP, one thread per
    call. The booster is configured to one thread in place: pass a copy to keep the original's."""

    family = "xgboost"
    units = "log-odds"

    def __init__(self, booster: Any) -> None:
        booster.set_param({"nthread": 1})
        self.booster = booster
        self.names: list[str] = list(booster.feature_names or [])
        self.types: list[str] = list(booster.feature_types or ["float"] * len(self.names))
        self._references: dict[str, float] | None = None

    def predict(self, X: FloatMatrix) -> FloatMatrix:
        """``booster.inplace_predict(X)``: the probability per row."""
        return np.asarray(self.booster.inplace_predict(X), dtype=np.float64)

    def margin(self, X: FloatMatrix) -> FloatMatrix:
        """The log-odds per row (``predict_type="margin"``)."""
        out = self.booster.inplace_predict(X, predict_type="margin")
        return np.asarray(out, dtype=np.float64)

    def contributions(self, X: FloatMatrix) -> FloatMatrix:
        """TreeSHAP values, bias last, adding up to :meth:`margin` (see the module)."""
        import xgboost

        data = xgboost.DMatrix(
            X,
            feature_names=self.names or None,
            feature_types=self.types or None,
            enable_categorical=True,
            nthread=1,
        )
        phi = np.asarray(self.booster.predict(data, pred_contribs=True), dtype=np.float64)
        phi[:, -1] += self.margin(X) - phi.sum(axis=1)
        return phi

    def references(self) -> dict[str, float]:
        """Per numeric feature, the cover-weighted median of its split thresholds (features
        never split on, and categorical ones, are left out)."""
        if self._references is None:
            self._references = split_references(self.booster, self.names, self.types)
        return dict(self._references)

    def gain(self) -> FloatMatrix:
        """Total split gain per feature, in feature order, 0 for a feature never split on
        (``get_score(importance_type="total_gain")``; global explanations' ``gain``)."""
        scores = self.booster.get_score(importance_type="total_gain")
        names = self.names or [f"f{j}" for j in range(self.booster.num_features())]
        return np.asarray([float(scores.get(n, 0.0)) for n in names], dtype=np.float64)

    def warm(self) -> None:
        """Score and explain one all-missing row."""
        X = np.full((1, self.booster.num_features()), np.nan)
        self.predict(X)
        self.contributions(X)


def split_references(booster: Any, names: list[str], types: list[str]) -> dict[str, float]:
    """Per numeric feature, the cover-weighted median of the booster's split thresholds: the
    value the model treats as the middle of the feature (above it is "high")."""
    trees = booster.trees_to_dataframe()
    categorical = {n for n, t in zip(names, types, strict=False) if t == "c"}
    splits = trees[
        (trees["Feature"] != "Leaf")
        & trees["Split"].notna()
        & ~trees["Feature"].isin(sorted(categorical))
    ]
    refs: dict[str, float] = {}
    for name, group in splits.groupby("Feature"):
        thresholds = group["Split"].astype(np.float64).to_numpy()
        weights = group["Cover"].astype(np.float64).to_numpy()
        order = np.argsort(thresholds, kind="stable")
        cumulative = np.cumsum(weights[order])
        middle = int(np.searchsorted(cumulative, cumulative[-1] / 2))
        refs[str(name)] = float(thresholds[order][middle])
    return refs


def load_xgboost(
    folder: Path, *, features: list[str], categories: dict[str, list[str]]
) -> XGBoostScorer:
    """The native booster file (``model.ubj`` or ``model.json``) of an MLflow xgboost-flavor
    artifact; its input columns must be ``features`` in order."""
    import xgboost

    found = next((path for name in MODEL_FILES for path in sorted(folder.rglob(name))), None)
    if found is None:
        raise ConfigError(
            f"The model at {folder} has no native XGBoost booster ({' or '.join(MODEL_FILES)})."
        )
    booster = xgboost.Booster(model_file=str(found))
    names = list(booster.feature_names or [])
    if names and names != list(features):
        raise ConfigError(
            f"The XGBoost model at {found} expects the features {names}; the version's "
            f"feature_frame.json lists {list(features)}."
        )
    types = list(booster.feature_types or [])
    wrong = [f for f, t in zip(names, types, strict=False) if (t == "c") != (f in categories)]
    if wrong:
        raise ConfigError(
            f"The XGBoost model at {found} disagrees with the version's feature_frame.json on "
            f"which features are categorical: {wrong} (model types {types}, categorical "
            f"{sorted(categories)})."
        )
    return XGBoostScorer(booster)
