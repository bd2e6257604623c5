"""The scikit-learn family: :class:`SklearnScorer` and its loader :func:`load_sklearn`.

The scorer turns the float code matrix serving builds (numbers, category level indexes,
NaN for missing) back into the DataFrame the estimator was fitted on (float64 numbers, pandas
``Categorical`` with the fixed levels, NaN missing), so its scores are the estimator's own
``predict_proba``. The margin is the ``decision_function`` where the estimator has one, else
``logit(p)``; units are log-odds. Contributions (bias last, adding up to the margin):

* supported tree models (:mod:`cairn.explain.treeshap`): exact TreeSHAP. Gradient boosting
  explains its log-odds directly; a forest or single tree explains its probability ``p``, and
  the values are mapped onto ``logit(p)`` by the one factor
  ``(logit(p) - logit(p0)) / (p - p0)`` per row (``p0`` the expected probability), which keeps
  their signs and proportions and makes them add up to the margin exactly;
* a (pipelined) logistic regression: exact linear SHAP
  (:class:`~cairn.explain.sklearn_shap.LinearShap`);
* anything else: permutation sampling over the background sample stored with the model
  (:func:`~cairn.explain.sampling.explain_rows`, fixed seed and budget); such a scorer says
  ``exact_contributions = False``, so serving computes them on demand unless the deployment's
  ``sampling.on_request`` says otherwise, with the deployment's budget and seed.

Every estimator call runs on one thread (OpenMP and BLAS pools capped for the call, as the
LightGBM and XGBoost scorers do): the server's workers are the parallelism, and an estimator's
own threads competing on a loaded machine made HistGradientBoosting's p99 many times its p50.

Artifacts are skops files (no code runs on load): :func:`load_sklearn` refuses a type outside
the scikit-learn/numpy/scipy allow-list, and a version logged as a pickle, with one line each.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from cairn.core.errors import ConfigError
from cairn.explain.sampling import explain_rows
from cairn.explain.sklearn_shap import LinearShap, linear_parts
from cairn.explain.treeshap import TreeEnsemble, model_input, tree_ensemble, tree_shap

__all__ = [
    "SIDECAR",
    "TRUSTED_MODULES",
    "SklearnScorer",
    "check_trusted",
    "load_sklearn",
    "trusted_types",
]

FloatMatrix = npt.NDArray[np.float64]
SIDECAR = "cairn-sklearn.json"
"""The model folder's record of the skops trusted types, linear means and background."""
TRUSTED_MODULES = ("sklearn", "numpy", "scipy")
TRUSTED_EXTRA = ("functools.partial",)
"""Types outside the three libraries a scikit-learn model may hold (HistGradientBoosting
keeps ``functools.partial(sklearn.utils.validation.check_array, ...)``)."""
EPS = 1e-12


class SklearnScorer:
    """A fitted scikit-learn binary classifier over ``features`` (see the module)."""

    family = "sklearn"
    units = "log-odds"

    def __init__(
        self,
        estimator: Any,
        features: list[str],
        categories: dict[str, list[str]],
        *,
        background: FloatMatrix | None = None,
        linear_means: FloatMatrix | None = None,
    ) -> None:
        self.estimator = estimator
        self.features = features
        self.categories = categories
        self.background = None if background is None else np.asarray(background, np.float64)
        self._trees: TreeEnsemble | None = None
        self._linear: LinearShap | None = None
        try:
            self._trees = tree_ensemble(estimator)
        except ConfigError:
            if linear_parts(estimator) is not None and linear_means is not None:
                self._linear = LinearShap(estimator, features, linear_means)
        if self._trees is None and self._linear is None and self.background is None:
            raise ConfigError(
                f"The {type(estimator).__name__} model has no exact explainer and no "
                f"background sample for sampling contributions; retrain it."
            )

    @property
    def method(self) -> str:
        """How contributions are computed: ``treeshap``, ``linear`` or ``sampling``."""
        return "treeshap" if self._trees else "linear" if self._linear else "sampling"

    @property
    def exact_contributions(self) -> bool:
        """False when contributions are sampled (estimates with a standard error)."""
        return self.method != "sampling"

    def frame(self, X: FloatMatrix) -> pd.DataFrame:
        """The DataFrame the estimator was fitted on, from the code matrix ``X``."""
        X = np.asarray(X, dtype=np.float64)
        columns: dict[str, Any] = {}
        for j, name in enumerate(self.features):
            if name in self.categories:
                levels = self.categories[name]
                codes = np.where(np.isnan(X[:, j]), -1, X[:, j]).astype(np.int64)
                columns[name] = pd.Categorical.from_codes(codes, categories=pd.Index(levels))
            else:
                columns[name] = X[:, j]
        return pd.DataFrame(columns)

    def predict(self, X: FloatMatrix) -> FloatMatrix:
        """``predict_proba(frame(X))[:, 1]``, on one thread."""
        frame = self.frame(X)
        with one_thread():
            p = self.estimator.predict_proba(frame)[:, 1]
        return np.asarray(p, dtype=np.float64)

    def margin(self, X: FloatMatrix) -> FloatMatrix:
        """``decision_function(frame(X))``, else ``logit(predict(X))``, on one thread."""
        if hasattr(self.estimator, "decision_function"):
            frame = self.frame(X)
            with one_thread():
                return np.asarray(self.estimator.decision_function(frame), np.float64)
        return _logit(self.predict(X))

    def contributions(self, X: FloatMatrix) -> FloatMatrix:
        """Per row one value per feature and the bias last, adding up to :meth:`margin`."""
        X = np.asarray(X, dtype=np.float64)
        if self._linear is not None:
            with one_thread():
                return self._linear.contributions(self.frame(X))
        if self._trees is not None:
            frame = self.frame(X)
            with one_thread():
                phi = tree_shap(self._trees, model_input(self.estimator, frame))
            if hasattr(self.estimator, "decision_function"):
                return phi
            return _to_logit(phi)
        assert self.background is not None
        return explain_rows(self, X, self.background).contributions

    def references(self) -> dict[str, float]:
        """Per numeric feature, the median of the background sample (when stored)."""
        if self.background is None:
            return {}
        out = {}
        for j, name in enumerate(self.features):
            column = self.background[:, j]
            if name not in self.categories and not np.isnan(column).all():
                out[name] = float(np.nanmedian(column))
        return out

    def warm(self) -> None:
        """Score and explain one all-missing row."""
        X = np.full((1, len(self.features)), np.nan)
        self.predict(X)
        self.contributions(X)


_CONTROLLER: list[Any] = []


@contextmanager
def one_thread() -> Iterator[None]:
    """Cap the OpenMP and BLAS thread pools at one thread for the block (about 15 us: the
    pools are inspected once per process)."""
    if not _CONTROLLER:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER.append(ThreadpoolController())
    with _CONTROLLER[0].limit(limits=1):
        yield


def load_sklearn(
    folder: Path, *, features: list[str], categories: dict[str, list[str]]
) -> SklearnScorer:
    """The skops model (``model.skops``) of an MLflow sklearn-flavor artifact, its trusted
    types checked against the allow-list before anything is loaded."""
    import skops.io as sio

    found = next(iter(sorted(folder.rglob("model.skops"))), None)
    if found is None:
        if any(folder.rglob("model.pkl")):
            raise ConfigError(
                f"The model at {folder} is a pickle (MLflow's cloudpickle flavor); loading a "
                f"pickle runs code, so Cairn refuses it: retrain the version (skops format)."
            )
        raise ConfigError(f"The model at {folder} has no skops file (model.skops).")
    trusted = check_trusted(found)
    estimator = sio.load(found, trusted=trusted)
    sidecar = found.parent / SIDECAR
    meta = json.loads(sidecar.read_text()) if sidecar.exists() else {}
    background = meta.get("background")
    means = meta.get("linear_means")
    return SklearnScorer(
        estimator,
        features,
        categories,
        background=None if background is None else np.array(background, dtype=np.float64),
        linear_means=None if means is None else np.array(means, dtype=np.float64),
    )


def trusted_types(estimator: Any) -> list[str]:
    """The types outside skops' defaults that ``estimator`` holds (recorded at save time)."""
    import skops.io as sio

    return sorted(str(t) for t in sio.get_untrusted_types(data=sio.dumps(estimator)))


def check_trusted(path: Path) -> list[str]:
    """The types the skops file at ``path`` needs, all inside the allow-list.

    Raises
    ------
    ConfigError
        A type outside scikit-learn, numpy and scipy (and :data:`TRUSTED_EXTRA`).
    """
    import skops.io as sio

    needed = [str(t) for t in sio.get_untrusted_types(file=path)]
    refused = [t for t in needed if not _allowed(t)]
    if refused:
        raise ConfigError(
            f"The skops model {path} needs types outside the trusted "
            f"{'/'.join(TRUSTED_MODULES)} allow-list: {', '.join(refused)}; refusing to load it."
        )
    return needed


def _allowed(name: str) -> bool:
    return name.split(".", 1)[0] in TRUSTED_MODULES or name in TRUSTED_EXTRA


def _logit(p: FloatMatrix) -> FloatMatrix:
    q = np.clip(p, EPS, 1 - EPS)
    return np.asarray(np.log(q) - np.log1p(-q), dtype=np.float64)


def _to_logit(phi: FloatMatrix) -> FloatMatrix:
    """Probability-space contributions mapped onto ``logit(p)`` (one factor per row)."""
    p0 = float(phi[0, -1])
    p = phi.sum(axis=1)
    lp, l0 = _logit(p), float(_logit(np.array([p0]))[0])
    q = np.clip(p0, EPS, 1 - EPS)
    slope = 1.0 / (q * (1 - q))
    gap = p - p0
    small = np.abs(gap) < 1e-12
    factor = np.where(small, slope, (lp - l0) / np.where(small, 1.0, gap))
    out = np.empty_like(phi)
    out[:, :-1] = phi[:, :-1] * factor[:, None]
    out[:, -1] = l0
    return out
