"""Fitting the XGBoost family: a native ``xgboost.Booster`` (:func:`fit_xgboost`,
:class:`XGBoostModel`).

The booster is trained on :func:`code_matrix` of the :class:`~cairn.training.frame.FeatureFrame`
inputs: float64 numbers, a categorical column as its level index (``feature_types`` ``"c"``,
XGBoost's native categorical splits), missing as NaN. That is exactly the matrix serving builds
from feature values, so served scores equal offline ones. The model is logged as MLflow's xgboost
flavor: the native UBJSON file ``model.ubj`` (no pickle; loading it runs no code).

Example
-------
>>> import pandas as pd
>>> X = pd.DataFrame({"x": [1.0, None], "c": pd.Categorical(["b", None], categories=["a", "b"])})
>>> code_matrix(X).tolist(), feature_types(X)
([[1.0, 1.0], [nan, nan]], ['float', 'c'])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from cairn.core.errors import ConfigError
from cairn.serving.scorer_xgboost import XGBoostScorer
from cairn.tracking.models import Column, LoggedModel
from cairn.tracking.run import RunLogger
from cairn.training.config import ModelSpec
from cairn.training.frame import code_matrix
from cairn.training.importance import Importance, sample_rows

__all__ = ["XGBoostModel", "code_matrix", "feature_types", "fit_xgboost"]

FloatMatrix = npt.NDArray[np.float64]
OBJECTIVE = "binary:logistic"
GAIN_ARTIFACT = "importance_gain.json"
"""Total split gain per feature, logged next to the model."""
_ROUNDS_KEYS = ("num_boost_round", "n_estimators", "num_round", "num_trees")


def feature_types(X: pd.DataFrame) -> list[str]:
    """XGBoost's feature type per column: ``"c"`` for ``category`` columns, else ``"float"``."""
    return ["c" if isinstance(X[n].dtype, pd.CategoricalDtype) else "float" for n in X.columns]


@dataclass
class XGBoostModel:
    """A native ``xgboost.Booster``; importance is mean |TreeSHAP| (``pred_contribs``)."""

    estimator: Any
    params: dict[str, Any]
    extra_metrics: dict[str, float] = field(default_factory=dict)
    flavor: str = "xgboost"

    def predict(self, X: pd.DataFrame) -> FloatMatrix:
        """Probabilities of the booster on :func:`code_matrix` of ``X``."""
        return np.asarray(self.estimator.inplace_predict(code_matrix(X)), dtype=np.float64)

    def importance(
        self, X: pd.DataFrame, y: npt.NDArray[np.int64], *, sample: int, seed: int
    ) -> Importance:
        """Mean |TreeSHAP contribution| per feature over a sample of ``X``."""
        rows = sample_rows(len(X), sample, seed)
        scorer = XGBoostScorer(self.estimator.copy())
        phi = scorer.contributions(code_matrix(X.iloc[rows]))
        mean_abs = np.abs(phi[:, :-1]).mean(axis=0)
        order = np.argsort(-mean_abs, kind="stable")
        values = {str(X.columns[i]): float(mean_abs[i]) for i in order}
        return Importance("mean_abs_shap", values, len(rows), float(phi[:, -1].mean()))

    def gain(self) -> dict[str, float]:
        """Total split gain per feature, largest first (0 for features never split on)."""
        scores = self.estimator.get_score(importance_type="total_gain")
        names = list(self.estimator.feature_names or [])
        values = {n: float(scores.get(n, 0.0)) for n in names}
        return dict(sorted(values.items(), key=lambda kv: -kv[1]))

    def log(self, run: RunLogger, columns: list[Column]) -> LoggedModel:
        """The booster as MLflow's xgboost flavor (native ``model.ubj``) and its split gains."""
        from cairn.training.estimators import pins

        run.log_json({"method": "total_gain", "values": self.gain()}, GAIN_ARTIFACT)
        names = ["xgboost-cpu", "xgboost", "numpy", "pandas"]
        return run.log_xgboost(self.estimator, columns=columns, pip_requirements=pins(*names))

    def scorer(self, features: list[str], categories: dict[str, list[str]]) -> XGBoostScorer:
        """The serving scorer of this booster (a one-thread copy; what the loader builds)."""
        names = list(self.estimator.feature_names or [])
        if names != list(features):
            raise ConfigError(
                f"The XGBoost model was trained on the features {names}; got {list(features)}."
            )
        return XGBoostScorer(self.estimator.copy())


def fit_xgboost(
    spec: ModelSpec,
    X: pd.DataFrame,
    y: npt.NDArray[np.int64],
    X_valid: pd.DataFrame,
    y_valid: npt.NDArray[np.int64],
    *,
    seed: int,
    where: str,
) -> XGBoostModel:
    """Train a booster with ``spec.params`` over Cairn's defaults (``binary:logistic``, AUC,
    seeded, quiet) for ``spec.num_boost_round`` rounds, early stopping on the validation AUC
    when ``spec.early_stopping_rounds`` is set (the booster then keeps its best rounds only)."""
    import xgboost as xgb

    params: dict[str, Any] = {
        **({} if spec.threads is None else {"nthread": spec.threads}),
        "objective": OBJECTIVE,
        "eval_metric": "auc",
        "seed": seed,
        "verbosity": 0,
        **spec.params,
    }
    if params["objective"] != OBJECTIVE:
        raise ConfigError(
            f"{where}: model.params.objective must be {OBJECTIVE!r} for type xgboost so scores "
            f"are probabilities; got {params['objective']!r}."
        )
    for key in _ROUNDS_KEYS:
        if key in params:
            raise ConfigError(
                f"{where}: set the number of trees with model.num_boost_round, not "
                f"model.params.{key}."
            )

    def matrix(frame: pd.DataFrame, label: npt.NDArray[np.int64]) -> Any:
        return xgb.DMatrix(
            code_matrix(frame),
            label=label,
            feature_names=[str(c) for c in frame.columns],
            feature_types=feature_types(frame),
            enable_categorical=True,
            nthread=spec.threads,
        )

    train_set = matrix(X, y)
    evals = [(matrix(X_valid, y_valid), "validation")] if spec.early_stopping_rounds else []
    try:
        booster = xgb.train(
            params,
            train_set,
            num_boost_round=spec.num_boost_round,
            evals=evals,
            early_stopping_rounds=spec.early_stopping_rounds,
            verbose_eval=False,
        )
    except xgb.core.XGBoostError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"{where}: XGBoost refused model.params: {first}") from None
    extra: dict[str, float] = {}
    if spec.early_stopping_rounds:
        extra["best_iteration"] = float(booster.best_iteration)
        booster = booster[: booster.best_iteration + 1]
    extra["num_trees"] = float(booster.num_boosted_rounds())
    logged = {**params, "num_boost_round": spec.num_boost_round}
    if spec.early_stopping_rounds:
        logged["early_stopping_rounds"] = spec.early_stopping_rounds
    return XGBoostModel(booster, logged, extra)
