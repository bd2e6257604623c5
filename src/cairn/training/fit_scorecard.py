"""The scorecard family: optbinning's binning process and a logistic regression -> points.

:func:`fit_scorecard` fits ``optbinning.Scorecard`` (scaling ``pdo_odds``) on the
:class:`~cairn.training.frame.FeatureFrame` inputs (categories as categorical variables, NaN
as the Missing bin) and exports it as a plain points table (:func:`points_table`, format
:data:`~cairn.serving.scorer_scorecard.FORMAT`): the artifact logged is that JSON, no pickle.

``model.params`` of train.yaml (all optional):

* ``pdo`` (20), ``odds`` (50), ``base_score`` (600): points to double the odds; the odds
  (good:bad) at ``base_score`` points;
* ``max_n_bins`` (6), ``min_bin_size`` (0.05): per characteristic;
* ``monotonic_trend``: one trend for every numeric characteristic (default ``auto_asc_desc``)
  or a mapping feature -> trend (``ascending``, ``descending``, ``peak``, ``valley``,
  ``auto``, ``auto_asc_desc``...), the rest keeping the default;
* ``neutral``: ``woe_zero`` (default: the points of a bin with WoE 0, the average applicant),
  ``max`` (points below the maximum: every shortfall is a reason) or ``min``;
* ``C`` (1.0), ``max_iter`` (1000): the logistic regression.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from cairn.core.errors import ConfigError
from cairn.serving.scorer_scorecard import FORMAT, ScorecardScorer
from cairn.tracking.models import Column, LoggedModel
from cairn.tracking.run import RunLogger
from cairn.tracking.scorecard_flavor import log_scorecard
from cairn.training.config import ModelSpec
from cairn.training.frame import code_matrix
from cairn.training.importance import Importance, sample_rows

if TYPE_CHECKING:
    from cairn.training.estimators import FittedModel

Scores = npt.NDArray[np.float64]
Labels = npt.NDArray[np.int64]

NEUTRALS = ("woe_zero", "min", "max")
DEFAULTS: dict[str, Any] = {
    "pdo": 20.0,
    "odds": 50.0,
    "base_score": 600.0,
    "max_n_bins": 6,
    "min_bin_size": 0.05,
    "monotonic_trend": "auto_asc_desc",
    "neutral": "woe_zero",
    "C": 1.0,
    "max_iter": 1000,
}


@dataclass
class ScorecardModel:
    """A fitted ``optbinning.Scorecard`` and its exported points table."""

    estimator: Any
    params: dict[str, Any]
    table: dict[str, Any]
    categories: dict[str, list[str]]
    extra_metrics: dict[str, float] = field(default_factory=dict)
    flavor: str = "scorecard"

    def predict(self, X: pd.DataFrame) -> Scores:
        """optbinning's own ``predict_proba(X)[:, 1]``: P(default)."""
        with quiet_optbinning():
            proba = self.estimator.predict_proba(_as_object(X))
        return np.asarray(proba[:, 1], dtype=np.float64)

    def importance(self, X: pd.DataFrame, y: Labels, *, sample: int, seed: int) -> Importance:
        """Mean |points relative to the neutral| per characteristic over a sample of ``X``."""
        rows = sample_rows(len(X), sample, seed)
        features = list(X.columns)
        scorer = self.scorer(features, self.categories)
        phi = scorer.contributions(code_matrix(X.iloc[rows], self.categories))
        mean_abs = np.abs(phi[:, :-1]).mean(axis=0)
        order = np.argsort(-mean_abs, kind="stable")
        values = {features[i]: float(mean_abs[i]) for i in order}
        return Importance("mean_abs_points", values, len(rows), float(phi[:, -1].mean()))

    def log(self, run: RunLogger, columns: list[Column]) -> LoggedModel:
        """The points table as JSON (``scorecard.json``), no pickle."""
        from cairn.training.estimators import pins

        return log_scorecard(run, self.table, columns, pins("numpy"))

    def scorer(self, features: list[str], categories: dict[str, list[str]]) -> ScorecardScorer:
        """The serving scorer of the points table (the same one the loader builds)."""
        return ScorecardScorer(self.table, features=features, categories=categories)


codes = code_matrix
"""The float code matrix serving builds (:func:`cairn.training.frame.code_matrix`)."""


def fit_scorecard(
    spec: ModelSpec,
    X: pd.DataFrame,
    y: Labels,
    X_valid: pd.DataFrame,
    y_valid: Labels,
    *,
    seed: int,
    where: str,
) -> FittedModel:
    """Fit binning + logistic regression + ``pdo_odds`` scaling on ``X``, ``y`` and export
    the points table (``model.params``: see the module). The validation rows are not used: a
    scorecard has no early stopping."""
    from optbinning import BinningProcess, Scorecard
    from sklearn.linear_model import LogisticRegression

    unknown = sorted(set(spec.params) - set(DEFAULTS))
    if unknown:
        raise ConfigError(
            f"{where}: model.params for a scorecard take {', '.join(DEFAULTS)}; got "
            f"{', '.join(unknown)}."
        )
    p = {**DEFAULTS, **spec.params}
    if p["neutral"] not in NEUTRALS:
        raise ConfigError(
            f"{where}: model.params.neutral must be one of {', '.join(NEUTRALS)}; "
            f"got {p['neutral']!r}."
        )
    names = list(X.columns)
    categorical = [n for n in names if isinstance(X[n].dtype, pd.CategoricalDtype)]
    categories = {n: [str(v) for v in X[n].cat.categories] for n in categorical}
    trends = _trends(p["monotonic_trend"], names, categorical, where)
    process = BinningProcess(
        names,
        categorical_variables=categorical,
        max_n_bins=int(p["max_n_bins"]),
        min_bin_size=float(p["min_bin_size"]),
        binning_fit_params={n: {"monotonic_trend": t} for n, t in trends.items()},
    )
    lr = LogisticRegression(C=float(p["C"]), max_iter=int(p["max_iter"]), random_state=seed)
    card = Scorecard(
        process,
        lr,
        scaling_method="pdo_odds",
        scaling_method_params={
            "pdo": float(p["pdo"]),
            "odds": float(p["odds"]),
            "scorecard_points": float(p["base_score"]),
        },
    )
    try:
        with quiet_optbinning():
            card.fit(_as_object(X), y, metric_special=0, metric_missing="empirical")
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{where}: optbinning refused model.params: {exc}") from None
    table = points_table(card, p, trends)
    logged = {k: (v if isinstance(v, (str, int, float)) else str(v)) for k, v in p.items()}
    return ScorecardModel(card, logged, table, categories)


def points_table(card: Any, p: dict[str, Any], trends: dict[str, str]) -> dict[str, Any]:
    """The JSON points table of a fitted ``optbinning.Scorecard`` (see the serving module)."""
    factor = float(p["pdo"]) / np.log(2)
    offset = float(p["base_score"]) - factor * np.log(float(p["odds"]))
    df = card.table(style="detailed")
    chars = []
    for name in card.binning_process_.get_support(names=True):
        optb = card.binning_process_.get_binned_variable(name)
        rows = df[df["Variable"] == name]
        points = rows["Points"].to_numpy(dtype=np.float64)
        labels = [str(b) for b in rows["Bin"]]
        regular, special, missing = points[:-2], float(points[-2]), float(points[-1])
        intercept = float(np.ravel(card.estimator_.intercept_)[0])
        woe_zero = (offset - intercept * factor) / len(card.binning_process_.get_support())
        neutral = {"woe_zero": woe_zero, "min": float(regular.min()), "max": float(regular.max())}[
            p["neutral"]
        ]
        if optb.dtype != "numerical":
            labels = ["{" + ", ".join(str(v) for v in members) + "}" for members in optb.splits]
        entry: dict[str, Any] = {
            "name": str(name),
            "bins": labels[: len(regular)],
            "points": regular.tolist(),
            "missing_points": missing,
            "special_points": special,
            "fallback_points": woe_zero,
            "neutral_points": neutral,
        }
        if optb.dtype == "numerical":
            entry |= {
                "kind": "numeric",
                "splits": [float(s) for s in optb.splits],
                "monotonic_trend": trends.get(str(name)),
            }
        else:
            entry |= {
                "kind": "categorical",
                "categories": [[str(v) for v in members] for members in optb.splits],
            }
        chars.append(entry)
    return {
        "format": FORMAT,
        "scaling": {
            "method": "pdo_odds",
            "pdo": float(p["pdo"]),
            "odds": float(p["odds"]),
            "base_score": float(p["base_score"]),
        },
        "factor": factor,
        "offset": offset,
        "points_offset": float(getattr(card, "intercept_", 0.0) or 0.0),
        "probability": "P(default) = 1 / (1 + exp(-(offset - points) / factor))",
        "neutral": p["neutral"],
        "characteristics": chars,
    }


@contextmanager
def quiet_optbinning() -> Iterator[None]:
    """Silence the pandas deprecation warnings optbinning's own code raises (not ours to fix;
    the results do not depend on them)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module=r"optbinning(\.|$)")
        yield


def _trends(value: Any, names: list[str], categorical: list[str], where: str) -> dict[str, str]:
    numeric = [n for n in names if n not in categorical]
    if isinstance(value, str):
        return {n: value for n in numeric}
    if isinstance(value, dict):
        bad = sorted(set(value) - set(numeric))
        if bad:
            raise ConfigError(
                f"{where}: model.params.monotonic_trend names numeric features; got "
                f"{', '.join(map(str, bad))} (numeric: {', '.join(numeric)})."
            )
        return {n: str(value.get(n, DEFAULTS["monotonic_trend"])) for n in numeric}
    raise ConfigError(
        f"{where}: model.params.monotonic_trend must be a trend or a mapping feature -> "
        f"trend; got {value!r}."
    )


def _as_object(X: pd.DataFrame) -> pd.DataFrame:
    """Categories as object columns of strings (NaN missing), as optbinning reads them."""
    out = X.copy()
    for n in X.columns:
        if isinstance(X[n].dtype, pd.CategoricalDtype):
            out[n] = X[n].astype(object)
    return out
