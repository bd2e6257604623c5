"""Fitting: a native LightGBM booster by default, or any scikit-learn-compatible estimator.

Each kind is one fitter in :data:`FITTERS` returning a :class:`FittedModel` that scores rows,
measures its feature importance and logs itself to a run.
"""

from __future__ import annotations

import importlib
import json
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, packages_distributions, version
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

from cairn.core.errors import ConfigError
from cairn.serving.scorers import LightGBMScorer, Scorer
from cairn.tracking.models import Column, LoggedModel
from cairn.tracking.run import RunLogger
from cairn.training.config import ModelSpec
from cairn.training.frame import code_matrix
from cairn.training.importance import Importance, permutation_importance, shap_importance

if TYPE_CHECKING:
    from cairn.serving.scorers import Scorer

Scores = npt.NDArray[np.float64]
Labels = npt.NDArray[np.int64]
BINARY_OBJECTIVES = ("binary", "cross_entropy", "xentropy")


class FittedModel(Protocol):
    """A fitted binary classifier, whatever its library."""

    flavor: str
    estimator: Any
    params: dict[str, Any]
    """What to log as the run's model parameters."""
    extra_metrics: dict[str, float]

    def predict(self, X: pd.DataFrame) -> Scores:
        """The probability of the positive class (default) per row."""
        ...

    def importance(self, X: pd.DataFrame, y: Labels, *, sample: int, seed: int) -> Importance:
        """Global feature importance over (a sample of) ``X``."""
        ...

    def log(self, run: RunLogger, columns: list[Column]) -> LoggedModel:
        """Log the model (native flavor, explicit signature and requirements) into ``run``."""
        ...

    def scorer(self, features: list[str], categories: dict[str, list[str]]) -> Scorer:
        """The family's :class:`~cairn.serving.scorers.Scorer` of the fitted estimator (the
        one serving's loader builds from the logged artifact), over the float matrix of
        :meth:`cairn.training.frame.FeatureFrame.matrix`."""
        ...


@dataclass
class LightGBMModel:
    """A native ``lightgbm.Booster``; importance is mean |SHAP| from its own TreeSHAP."""

    estimator: Any
    params: dict[str, Any]
    extra_metrics: dict[str, float] = field(default_factory=dict)
    flavor: str = "lightgbm"

    def predict(self, X: pd.DataFrame) -> Scores:
        """Probabilities from the booster (its best iteration when early stopping ran)."""
        return np.asarray(self.estimator.predict(X), dtype=np.float64)

    def importance(self, X: pd.DataFrame, y: Labels, *, sample: int, seed: int) -> Importance:
        """Mean |SHAP| over a sample of ``X``."""
        return shap_importance(self.estimator, X, sample=sample, seed=seed)

    def log(self, run: RunLogger, columns: list[Column]) -> LoggedModel:
        """The booster as MLflow's lightgbm flavor (``model.lgb``)."""
        return run.log_lightgbm(
            self.estimator, columns=columns, pip_requirements=pins("lightgbm", "numpy", "pandas")
        )

    def scorer(self, features: list[str], categories: dict[str, list[str]]) -> Scorer:
        """The booster as a :class:`~cairn.serving.scorers.LightGBMScorer` (pandas categories
        are level codes inside the booster, so the serving matrix scores the same)."""
        return LightGBMScorer(self.estimator)


@dataclass
class SklearnModel:
    """A scikit-learn-compatible estimator; importance is permutation AUC loss."""

    estimator: Any
    params: dict[str, Any]
    extra_metrics: dict[str, float] = field(default_factory=dict)
    flavor: str = "sklearn"
    threads: int | None = None
    background: Scores | None = None
    """A seeded sample of the training rows as a code matrix (numbers, level indexes, NaN):
    the background of sampling contributions and of the references."""
    linear_means: Scores | None = None
    """For a (pipelined) logistic regression, the training means of its transformed inputs."""

    def predict(self, X: pd.DataFrame) -> Scores:
        """``predict_proba(X)[:, 1]``."""
        with thread_limit(self.threads):
            return np.asarray(self.estimator.predict_proba(X)[:, 1], dtype=np.float64)

    def importance(self, X: pd.DataFrame, y: Labels, *, sample: int, seed: int) -> Importance:
        """Permutation importance (AUC) over a sample of ``X``."""
        with thread_limit(self.threads):
            return permutation_importance(self.estimator, X, y, sample=sample, seed=seed)

    def log(self, run: RunLogger, columns: list[Column]) -> LoggedModel:
        """The estimator as MLflow's sklearn flavor in the skops format, its trusted types
        (also logged as ``skops-trusted-types.json``), background and linear means beside it."""
        from cairn.serving.scorer_sklearn import SIDECAR, trusted_types

        extra = _distribution_of(type(self.estimator).__module__)
        names = ["scikit-learn", "skops", "numpy", "pandas", *extra]
        trusted = trusted_types(self.estimator)
        run.log_json({"trusted_types": trusted}, "skops-trusted-types.json")
        sidecar = {
            "trusted_types": trusted,
            "background": None if self.background is None else _listed(self.background),
            "linear_means": None if self.linear_means is None else _listed(self.linear_means),
        }
        return run.log_sklearn(
            self.estimator,
            columns=columns,
            pip_requirements=pins(*dict.fromkeys(names)),
            trusted_types=trusted,
            extra_files={SIDECAR: json.dumps(sidecar)},
        )

    def scorer(self, features: list[str], categories: dict[str, list[str]]) -> Scorer:
        """The :class:`~cairn.serving.scorer_sklearn.SklearnScorer` of the fitted estimator."""
        from cairn.serving.scorer_sklearn import SklearnScorer

        return SklearnScorer(
            self.estimator,
            features,
            categories,
            background=self.background,
            linear_means=self.linear_means,
        )


def fit_lightgbm(
    spec: ModelSpec,
    X: pd.DataFrame,
    y: Labels,
    X_valid: pd.DataFrame,
    y_valid: Labels,
    *,
    seed: int,
    where: str,
) -> FittedModel:
    """Train a booster with ``spec.params`` over Cairn's defaults (binary objective, AUC,
    seeded and deterministic, quiet)."""
    import lightgbm as lgb

    params: dict[str, Any] = {
        **({} if spec.threads is None else {"num_threads": spec.threads}),
        "objective": "binary",
        "metric": "auc",
        "verbosity": -1,
        "seed": seed,
        "deterministic": True,
        "force_col_wise": True,
        **spec.params,
    }
    if params["objective"] not in BINARY_OBJECTIVES:
        raise ConfigError(
            f"{where}: model.params.objective must be a binary objective "
            f"({', '.join(BINARY_OBJECTIVES)}) so scores are probabilities; "
            f"got {params['objective']!r}."
        )
    for key in ("num_boost_round", "num_iterations", "n_estimators", "num_trees"):
        if key in params:
            raise ConfigError(
                f"{where}: set the number of trees with model.num_boost_round, not "
                f"model.params.{key}."
            )
    train_set = lgb.Dataset(X, y, free_raw_data=False)
    callbacks: list[Callable[..., Any]] = []
    valid_sets = []
    if spec.early_stopping_rounds:
        valid_sets = [lgb.Dataset(X_valid, y_valid, reference=train_set)]
        callbacks.append(lgb.early_stopping(spec.early_stopping_rounds, verbose=False))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # LightGBM's notes on pandas categoricals
        try:
            booster = lgb.train(
                params,
                train_set,
                num_boost_round=spec.num_boost_round,
                valid_sets=valid_sets,
                callbacks=callbacks,
            )
        except lgb.basic.LightGBMError as exc:
            raise ConfigError(f"{where}: LightGBM refused model.params: {exc}") from None
    extra = {"num_trees": float(booster.num_trees())}
    if spec.early_stopping_rounds:
        extra["best_iteration"] = float(booster.best_iteration)
    logged = {**params, "num_boost_round": spec.num_boost_round}
    if spec.early_stopping_rounds:
        logged["early_stopping_rounds"] = spec.early_stopping_rounds
    return LightGBMModel(booster, logged, extra)


def fit_sklearn(
    spec: ModelSpec,
    X: pd.DataFrame,
    y: Labels,
    X_valid: pd.DataFrame,
    y_valid: Labels,
    *,
    seed: int,
    where: str,
) -> FittedModel:
    """Build ``spec.estimator`` with ``spec.params`` (seeded through ``random_state`` when it
    has one) and fit it."""
    assert spec.estimator is not None
    factory = _resolve(spec.estimator, where)
    try:
        estimator = factory(**spec.params)
    except TypeError as exc:
        raise ConfigError(f"{where}: model.params do not fit {spec.estimator}: {exc}") from None
    if not all(callable(getattr(estimator, m, None)) for m in ("fit", "predict_proba")):
        raise ConfigError(
            f"{where}: model.estimator {spec.estimator} must build an object with fit and "
            f"predict_proba (a scikit-learn classifier); got {type(estimator).__name__}."
        )
    get_params = getattr(estimator, "get_params", None)
    params: dict[str, Any] = dict(get_params()) if callable(get_params) else dict(spec.params)
    if "random_state" in params and "random_state" not in spec.params:
        estimator.set_params(random_state=seed)
        params["random_state"] = seed
    with thread_limit(spec.threads):
        try:
            estimator.fit(X, y)
        except (TypeError, ValueError) as exc:
            text = [str(c) for c in X.columns if isinstance(X[c].dtype, pd.CategoricalDtype)]
            if not text:
                raise
            raise ConfigError(
                f"{where}: model.estimator {spec.estimator} cannot fit the text features "
                f"{', '.join(text)} (given as pandas categoricals with their training levels): "
                f"{type(exc).__name__}: {exc}. Use an estimator that accepts categoricals "
                f"(sklearn.ensemble.HistGradientBoostingClassifier with "
                f"categorical_features: from_dtype), or a factory of your own installed module "
                f"returning a Pipeline that encodes them first (e.g. a ColumnTransformer with "
                f"OneHotEncoder(handle_unknown='ignore'))."
            ) from None
    logged = {k: v for k, v in params.items() if isinstance(v, (str, int, float, bool, type(None)))}
    if spec.threads is not None:
        logged["threads"] = spec.threads
    from cairn.explain.sklearn_shap import LinearShap, linear_parts

    means = LinearShap.transformed_means(estimator, X) if linear_parts(estimator) else None
    return SklearnModel(
        estimator,
        {"estimator": spec.estimator, **logged},
        threads=spec.threads,
        background=code_matrix(X.sample(n=min(BACKGROUND_ROWS, len(X)), random_state=seed)),
        linear_means=means,
    )


BACKGROUND_ROWS = 32
"""Training rows kept with a scikit-learn model as the background of sampling contributions."""


def _listed(a: Scores) -> Any:
    """A float array as JSON-ready nested lists, NaN as null."""
    return [_listed(v) if np.ndim(v) else (None if np.isnan(v) else float(v)) for v in a]


@contextmanager
def thread_limit(threads: int | None) -> Iterator[None]:
    """Cap OpenMP and BLAS thread pools for the block (no cap when ``threads`` is None)."""
    if threads is None:
        yield
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=threads):
        yield


FITTERS: dict[str, Callable[..., FittedModel]] = {
    "lightgbm": fit_lightgbm,
    "sklearn": fit_sklearn,
    "scorecard": lambda *a, **k: _fitter("cairn.training.fit_scorecard", "fit_scorecard")(*a, **k),
    "xgboost": lambda *a, **k: _fitter("cairn.training.fit_xgboost", "fit_xgboost")(*a, **k),
}
"""Model kind (``model.type`` in train.yaml) -> fitter (a family's library is imported when a
model of it is fitted)."""


def _fitter(module: str, name: str) -> Callable[..., FittedModel]:
    fitter: Callable[..., FittedModel] = getattr(importlib.import_module(module), name)
    return fitter


def fit_model(
    spec: ModelSpec,
    X: pd.DataFrame,
    y: Labels,
    X_valid: pd.DataFrame,
    y_valid: Labels,
    *,
    seed: int,
    where: str = "train config",
) -> FittedModel:
    """Fit the model ``spec`` describes."""
    return FITTERS[spec.kind](spec, X, y, X_valid, y_valid, seed=seed, where=where)


def pins(*names: str) -> list[str]:
    """``name==installed version`` for each installed distribution (explicit requirements:
    MLflow's inference imports the model in a subprocess and takes seconds)."""
    out = []
    for name in names:
        try:
            out.append(f"{name}=={version(name)}")
        except PackageNotFoundError:
            continue
    return out


def _distribution_of(module: str) -> list[str]:
    top = module.split(".", 1)[0]
    return [d for d in packages_distributions().get(top, []) if d != "scikit-learn"]


def _resolve(path: str, where: str) -> Callable[..., Any]:
    module_name, _, attr = path.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(
            f"{where}: model.estimator {path!r}: cannot import {module_name!r} ({exc})."
        ) from None
    factory = getattr(module, attr, None)
    if not callable(factory):
        raise ConfigError(
            f"{where}: model.estimator {path!r}: {module_name!r} has no class or function {attr!r}."
        )
    return factory  # type: ignore[no-any-return]
