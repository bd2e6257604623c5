"""Global explanations of a model version, computed at training time: :func:`explain_globally`.

Over a set of rows (training uses its reference rows), a :class:`GlobalExplanation` holds

* **importance**: per feature, the mean |contribution| (margin units), and the model's own
  total split **gain** when the scorer has the optional method ``gain() -> array`` (one value
  per feature, in feature order: LightGBM and XGBoost boosters);
* **partial dependence and ICE** for the ``top`` most important features
  (:mod:`cairn.explain.partial_dependence`: one definition for every family);
* a **contribution summary** per feature: quantiles of its contributions, their mean, a strip
  of the ICE rows' contributions, and ``rises``: the share of rows, among those whose value is
  known and not at the feature's median, where the contribution has the sign of
  ``value - median`` (1: a higher value always raised the score; None for categories);
* the scorecard's **points table** when the scorer has the optional method
  ``points_table() -> list[dict]`` (one JSON-ready row per characteristic and bin);
* the units, the rows used, the family and the model name and version.

It is JSON-ready (:meth:`GlobalExplanation.to_dict`, :meth:`GlobalExplanation.from_dict`).
Imports only numpy (the scorer is passed in).

Example
-------
>>> import lightgbm as lgb
>>> from cairn.serving.scorers import LightGBMScorer
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(300, 2)); y = (X[:, 0] + rng.normal(size=300) > 0).astype(int)
>>> booster = lgb.train({"objective": "binary", "verbose": -1}, lgb.Dataset(X, y), 10)
>>> e = explain_globally(LightGBMScorer(booster), X, ["a", "b"], categories={}, seed=0)
>>> list(e.importance)[0], e.units, e.rows, e.dependence[0].feature
('a', 'log-odds', 300, 'a')
>>> GlobalExplanation.from_dict(e.to_dict()) == e
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from cairn.core.errors import ConfigError, DataError
from cairn.explain.partial_dependence import dependence, feature_grid

__all__ = [
    "ContributionSummary",
    "Dependence",
    "ExplainedScorer",
    "GlobalExplanation",
    "explain_globally",
]

FloatMatrix = npt.NDArray[np.float64]
ARTIFACT = "explanation.json"
"""The run artifact a training run stores its version's global explanation in."""
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
"""The contribution quantiles of each feature's summary (a box from 25 to 75 %, whiskers 5-95)."""


class ExplainedScorer(Protocol):
    """What an explanation needs of a :class:`~cairn.serving.scorers.Scorer`."""

    family: str
    units: str

    def predict(self, X: FloatMatrix) -> FloatMatrix:
        """The probability of the positive class per row."""
        ...

    def contributions(self, X: FloatMatrix) -> FloatMatrix:
        """Per row, one contribution per feature and the bias last."""
        ...


@dataclass(frozen=True)
class Dependence:
    """PD and ICE of one feature; ``grid_labels`` are the values as text (levels for a
    category)."""

    feature: str
    kind: str
    """``number`` or ``category``."""
    grid: list[float]
    grid_labels: list[str]
    average: list[float]
    individual: list[list[float]]


@dataclass(frozen=True)
class ContributionSummary:
    """The distribution of one feature's contributions over the rows (margin units)."""

    feature: str
    quantiles: list[float]
    """At :data:`QUANTILES`."""
    mean: float
    rises: float | None
    """Share of rows where a higher value raised the score (None: category or no spread)."""
    strip: list[float]
    """The contributions of the ICE rows."""


@dataclass(frozen=True)
class GlobalExplanation:
    """A model's global explanation (see the module)."""

    model: str
    version: str | None
    family: str
    units: str
    rows: int
    features: list[str]
    labels: dict[str, str]
    importance: dict[str, float]
    """Mean |contribution| per feature, largest first."""
    bias: float
    """The mean of the bias column (the margin of an average row)."""
    dependence: list[Dependence]
    summary: list[ContributionSummary]
    gain: dict[str, float] | None = None
    points: list[dict[str, Any]] | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    """How it was computed: ``top``, ``grid``, ``ice_rows``, ``seed``."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GlobalExplanation:
        """Read what :meth:`to_dict` wrote (a DataError naming the missing key otherwise)."""
        try:
            body = dict(data)
            # JSON writers may sort keys: rank importance (and gain) again, largest first
            order = {name: j for j, name in enumerate(body["features"])}
            rank = sorted(body["importance"].items(), key=lambda kv: (-kv[1], order[kv[0]]))
            body["importance"] = dict(rank)
            if body.get("gain") is not None:
                body["gain"] = {name: body["gain"][name] for name, _ in rank}
            body["dependence"] = [Dependence(**d) for d in body["dependence"]]
            body["summary"] = [ContributionSummary(**s) for s in body["summary"]]
            return cls(**body)
        except (KeyError, TypeError) as exc:
            raise DataError(
                f"An explanation must have the keys of GlobalExplanation.to_dict(); got "
                f"{sorted(data)} ({exc})."
            ) from None


def explain_globally(
    scorer: ExplainedScorer,
    X: FloatMatrix,
    names: Sequence[str],
    *,
    categories: Mapping[str, Sequence[str]],
    labels: Mapping[str, str] | None = None,
    top: int = 6,
    grid: int = 20,
    ice_rows: int = 50,
    seed: int,
    model: str = "",
    version: str | None = None,
) -> GlobalExplanation:
    """Explain ``scorer`` over the rows of ``X`` (the serving matrix, columns ``names``).

    Parameters
    ----------
    categories:
        Per categorical column, its levels (a value in ``X`` is a level index).
    labels:
        Display names of features (for pages; a feature without one shows its name).
    top, grid, ice_rows:
        How many of the most important features get PD/ICE curves, how many quantiles a
        numeric grid has, and how many rows (a seeded sample) get ICE curves and strip points.
    model, version:
        The registered model and version (None before registration).
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != len(names) or len(X) == 0:
        raise DataError(
            f"explain_globally needs a non-empty (rows, {len(names)}) matrix for the features "
            f"{list(names)}; got shape {X.shape}."
        )
    if top < 1 or grid < 2 or ice_rows < 1:
        raise ConfigError(
            f"explain_globally needs top >= 1, grid >= 2 and ice_rows >= 1; got top={top}, "
            f"grid={grid}, ice_rows={ice_rows}."
        )
    phi = np.asarray(scorer.contributions(X), dtype=np.float64)
    mean_abs = np.abs(phi[:, :-1]).mean(axis=0)
    order = sorted(range(len(names)), key=lambda j: (-mean_abs[j], j))
    importance = {names[j]: float(mean_abs[j]) for j in order}
    sample = np.random.default_rng(seed).choice(len(X), size=min(ice_rows, len(X)), replace=False)
    sample.sort()
    curves = [
        _dependence(scorer, X, j, names[j], categories.get(names[j]), grid, sample)
        for j in order[:top]
    ]
    summary = [
        _summary(names[j], X[:, j], phi[:, j], sample, names[j] in categories) for j in order
    ]
    return GlobalExplanation(
        model=model,
        version=version,
        family=scorer.family,
        units=scorer.units,
        rows=len(X),
        features=list(names),
        labels={n: (labels or {}).get(n, n) for n in names},
        importance=importance,
        bias=float(phi[:, -1].mean()),
        dependence=curves,
        summary=summary,
        gain=_gain(scorer, names, order),
        points=_points(scorer),
        meta={"top": top, "grid": grid, "ice_rows": len(sample), "seed": seed},
    )


def _dependence(
    scorer: ExplainedScorer,
    X: FloatMatrix,
    j: int,
    name: str,
    levels: Sequence[str] | None,
    size: int,
    sample: npt.NDArray[np.intp],
) -> Dependence:
    values = feature_grid(X[:, j], levels=levels, size=size)
    if values.size == 0:
        return Dependence(name, "number", [], [], [], [[] for _ in sample])
    c = dependence(scorer, X, j, values, rows=sample)
    shown = list(levels) if levels is not None else [f"{v:.4g}" for v in values]
    return Dependence(
        name,
        "number" if levels is None else "category",
        c.grid.tolist(),
        shown,
        c.average.tolist(),
        c.individual.tolist(),
    )


def _summary(
    name: str,
    values: FloatMatrix,
    phi: FloatMatrix,
    sample: npt.NDArray[np.intp],
    categorical: bool,
) -> ContributionSummary:
    rises: float | None = None
    known = ~np.isnan(values)
    if not categorical and known.any():
        side = np.sign(values[known] - np.median(values[known]))
        both = (side != 0) & (phi[known] != 0)
        if both.any():
            rises = float((np.sign(phi[known][both]) == side[both]).mean())
    return ContributionSummary(
        feature=name,
        quantiles=[float(q) for q in np.quantile(phi, QUANTILES)],
        mean=float(phi.mean()),
        rises=rises,
        strip=[float(v) for v in phi[sample]],
    )


def _gain(scorer: object, names: Sequence[str], order: list[int]) -> dict[str, float] | None:
    method = getattr(scorer, "gain", None)
    if not callable(method):
        return None
    values = np.asarray(method(), dtype=np.float64)
    return {names[j]: float(values[j]) for j in order}


def _points(scorer: object) -> list[dict[str, Any]] | None:
    method = getattr(scorer, "points_table", None)
    return None if not callable(method) else [dict(row) for row in method()]
