"""One scoring protocol over every model family serving runs: :class:`Scorer`.

A scorer takes the float matrix a :class:`~cairn.serving.models.ScoringModel` builds from
feature values (numbers as they are, categories as their level index, missing as NaN) and gives

* ``predict(X)``: the probability of the positive class per row;
* ``margin(X)``: the raw score the probability is a function of (log-odds for boosters and
  logistic models, the points total for a scorecard);
* ``contributions(X)``: per row, one value per feature plus the bias in the **last** column,
  in the margin's units, that **add up to the margin** (exactly for the families with an exact
  method: TreeSHAP for trees, points for scorecards); reason codes rank them;
* ``references()``: per numeric feature, the value the model treats as its middle (a value
  above it is "high"), for the wording of reason codes;
* ``warm()``: pay first-call costs before the first request.

Optional, read with ``getattr``: ``exact_contributions`` (default True; False when the
contributions are sampled estimates, see :mod:`cairn.explain.sampling`), ``method`` (how they
are computed) and ``background`` (training rows for sampling).

:data:`FAMILIES` names, per flavor (the registry's ``cairn.flavor`` tag), the function that
builds the scorer from a version's downloaded artifact folder; :func:`load_scorer` imports it
on first use, so a family's library is imported only when a model of it is served. LightGBM's
is here (:class:`LightGBMScorer`: its native ``pred_contrib`` gives exact TreeSHAP values).

Example
-------
>>> import lightgbm as lgb
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(200, 2)); y = (X[:, 0] > 0).astype(int)
>>> s = LightGBMScorer(lgb.train({"objective": "binary", "verbose": -1}, lgb.Dataset(X, y), 5))
>>> phi = s.contributions(X[:3])
>>> bool(np.allclose(phi.sum(axis=1), s.margin(X[:3]))), s.family, s.units
(True, 'lightgbm', 'log-odds')
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from cairn.explain.contributions import split_references, tree_contributions
from cairn.serving.lightgbm_row import SingleRow

__all__ = ["FAMILIES", "LightGBMScorer", "Scorer", "ScorerLoader", "load_scorer"]

FloatMatrix = npt.NDArray[np.float64]


@runtime_checkable
class Scorer(Protocol):
    """What serving needs of a model, whatever its family (see the module)."""

    family: str
    """The family (``lightgbm``, ``xgboost``, ``sklearn``, ``scorecard``)."""
    units: str
    """The units of the margin and the contributions (``log-odds``, ``points``)."""

    def predict(self, X: FloatMatrix) -> FloatMatrix:
        """The probability of the positive class per row."""
        ...

    def margin(self, X: FloatMatrix) -> FloatMatrix:
        """The raw score per row (what the contributions add up to)."""
        ...

    def contributions(self, X: FloatMatrix) -> FloatMatrix:
        """Per row, one contribution per feature and the bias last: shape (rows, k + 1)."""
        ...

    def references(self) -> dict[str, float]:
        """Per numeric feature, the model's middle value (left out: no reference)."""
        ...

    def warm(self) -> None:
        """Score and explain once, so the first request does not pay for it."""
        ...


class ScorerLoader(Protocol):
    """Builds a family's scorer from a version's downloaded artifact folder."""

    def __call__(
        self, folder: Path, *, features: list[str], categories: dict[str, list[str]]
    ) -> Scorer:
        """The scorer of the artifact in ``folder`` (its input columns and levels given)."""
        ...


FAMILIES: dict[str, str] = {
    "lightgbm": "cairn.serving.scorers:load_lightgbm",
    "scorecard": "cairn.serving.scorer_scorecard:load_scorecard",
    "sklearn": "cairn.serving.scorer_sklearn:load_sklearn",
    "xgboost": "cairn.serving.scorer_xgboost:load_xgboost",
}
"""Flavor (the registry's ``cairn.flavor`` tag) -> ``module:function`` of its
:class:`ScorerLoader`."""


def load_scorer(
    flavor: str, folder: Path, *, features: list[str], categories: dict[str, list[str]]
) -> Scorer:
    """The scorer of a ``flavor`` artifact downloaded to ``folder``.

    Example
    -------
    >>> load_scorer("onnx", Path("."), features=[], categories={})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    cairn.core.errors.ConfigError: No model family 'onnx'; serving loads lightgbm, ...
    """
    import importlib

    from cairn.core.errors import ConfigError

    if flavor not in FAMILIES:
        known = ", ".join(sorted(FAMILIES))
        raise ConfigError(f"No model family {flavor!r}; serving loads {known}.")
    module, _, name = FAMILIES[flavor].partition(":")
    loader: ScorerLoader = getattr(importlib.import_module(module), name)
    return loader(folder, features=features, categories=categories)


class LightGBMScorer:
    """A native ``lightgbm.Booster``: probabilities, raw scores and its exact TreeSHAP
    (``pred_contrib``), one thread per call (the server's workers are the parallelism)."""

    family = "lightgbm"
    units = "log-odds"

    def __init__(self, booster: Any) -> None:
        self.booster = booster
        self._row = SingleRow(booster)

    def predict(self, X: FloatMatrix) -> FloatMatrix:
        """``booster.predict(X)`` (one row: through LightGBM's single-row C call, the same
        numbers in a quarter of the time; :mod:`cairn.serving.lightgbm_row`)."""
        if X.shape[0] == 1:
            fast = self._row.predict(X)
            if fast is not None:
                return fast
        return np.asarray(self.booster.predict(X, num_threads=1), dtype=np.float64)

    def margin(self, X: FloatMatrix) -> FloatMatrix:
        """``booster.predict(X, raw_score=True)``."""
        return np.asarray(self.booster.predict(X, raw_score=True, num_threads=1), dtype=np.float64)

    def contributions(self, X: FloatMatrix) -> FloatMatrix:
        """TreeSHAP values, bias last (:func:`cairn.explain.contributions.tree_contributions`)."""
        return tree_contributions(self.booster, X)

    def references(self) -> dict[str, float]:
        """The count-weighted median split threshold per feature."""
        return split_references(self.booster)

    def gain(self) -> FloatMatrix:
        """Total split gain per feature, in feature order (global explanations' ``gain``)."""
        return np.asarray(self.booster.feature_importance("gain"), dtype=np.float64)

    def warm(self) -> None:
        """Score and explain one all-missing row."""
        X = np.full((1, self.booster.num_feature()), np.nan)
        self.predict(X)
        self.contributions(X)


def load_lightgbm(
    folder: Path, *, features: list[str], categories: dict[str, list[str]]
) -> LightGBMScorer:
    """The native booster file (``model.lgb``) of an MLflow lightgbm-flavor artifact."""
    import lightgbm

    from cairn.core.errors import ConfigError

    found = next(iter(sorted(folder.rglob("model.lgb"))), None)
    if found is None:
        raise ConfigError(f"The model at {folder} has no native booster (model.lgb).")
    return LightGBMScorer(lightgbm.Booster(model_file=str(found)))
