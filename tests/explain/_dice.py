"""Cairn's counterfactuals against dice-ml's on the same declined rows (dev-only: dice-ml).

:func:`compare_with_dice` trains a LightGBM on the example project's training set, picks the
first ``rows`` declined rows without missing values, and asks both for a counterfactual of each
under the same declaration: the same immutable features (dice's ``features_to_vary`` is every
other feature) and the same feasible ranges (dice's ``permitted_range`` = the reference
profile's observed ``[min, max]``, Cairn's default). dice-ml (method ``random``) returns
``total_cfs`` candidates per row; its best one is taken (valid first, then fewest changes, then
smallest distance), which favours dice. Every answer of both is re-scored through the same
scorer; the numbers:

* **found**: share of rows with an answer;
* **validity**: share of answers whose re-scored decision is the other one;
* **sparsity**: mean number of changed features per answer;
* **distance**: mean of Cairn's distance (per numeric feature ``|change| / IQR``, 1 per
  categorical one) per answer;
* **ms**: mean wall time per row.

The benchmarks call the same function; ``tests/explain/test_counterfactual_dice.py`` asserts
Cairn is valid on every answer, finds at least as often and changes no more features.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from cairn.core.deployments import CounterfactualPolicy
from cairn.explain.counterfactual import CounterfactualProblem
from cairn.explain.counterfactual_engine import find_counterfactual
from cairn.explain.counterfactual_feasible import Feasible, feasible_features
from cairn.profiles.profile import ReferenceProfile
from cairn.serving.scorers import LightGBMScorer
from cairn.training.frame import FeatureFrame

__all__ = ["Side", "compare_with_dice", "example_training_set"]

IMMUTABLE = ("age", "marital")


@dataclass(frozen=True)
class Side:
    """One method's numbers over the same rows (see the module)."""

    method: str
    rows: int
    found: float
    validity: float
    sparsity: float
    distance: float
    ms: float

    def line(self) -> str:
        """One printable row."""
        return (
            f"{self.method:<14} rows={self.rows} found={self.found:.0%} "
            f"validity={self.validity:.0%} sparsity={self.sparsity:.2f} "
            f"distance={self.distance:.3f} ms/row={self.ms:.0f}"
        )


def example_training_set(root: Path) -> tuple[pd.DataFrame, list[str], str]:
    """The example project's training set at ``root`` (created there): frame, features, label."""
    from cairn.app.project import Project
    from cairn.quickstart.example import create_example_project
    from cairn.quickstart.training_demo import write_example_config
    from cairn.training import TrainConfig, build_training_set

    path = create_example_project(root).path
    project = Project.open(path)
    store = project.features
    if not store.applied_views():
        store.apply(project.definitions())
    config = TrainConfig.from_yaml(write_example_config(path))
    data = build_training_set(config, store)
    return data.frame, list(data.feature_columns), config.label


class _Proba:
    """dice-ml's view of the model: ``predict_proba`` of feature-value rows."""

    def __init__(self, ff: FeatureFrame, scorer: LightGBMScorer) -> None:
        self.ff, self.scorer = ff, scorer

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        p = self.scorer.predict(self.ff.matrix(frame[self.ff.features]))
        return np.column_stack([1 - p, p])


def compare_with_dice(
    frame: pd.DataFrame,
    features: list[str],
    label: str,
    *,
    rows: int = 20,
    threshold: float = 0.5,
    total_cfs: int = 4,
    budget_ms: float = 1000.0,
    seed: int = 0,
) -> tuple[Side, Side]:
    """Cairn's and dice-ml's numbers (see the module) on the first ``rows`` declines."""
    import dice_ml

    ff = FeatureFrame.fit(frame, features)
    X, y = ff.matrix(frame), frame[label].to_numpy(dtype=np.int64)
    cats = [features.index(c) for c in ff.categories]
    params = {"objective": "binary", "verbose": -1, "num_threads": 1, "seed": seed}
    booster = lgb.train(params, lgb.Dataset(X, y, categorical_feature=cats), 100)
    scorer = LightGBMScorer(booster)
    inputs = ff.transform(frame)
    profile = ReferenceProfile.build(inputs, categorical=set(ff.categories), seed=seed)
    policy = CounterfactualPolicy(immutable=IMMUTABLE, budget_ms=budget_ms)
    complete = ~np.isnan(X).any(axis=1)
    scores = scorer.predict(X)
    picked = np.flatnonzero(complete & (scores >= threshold))[:rows]

    values = inputs.astype({c: object for c in ff.categories})[complete]
    numeric = [f for f in features if f not in ff.categories]
    data = dice_ml.Data(
        dataframe=pd.concat([values, frame[label][complete]], axis=1),
        continuous_features=numeric,
        outcome_name=label,
    )
    dice = dice_ml.Dice(data, dice_ml.Model(model=_Proba(ff, scorer), backend="sklearn"), "random")
    vary = [f for f in features if f not in IMMUTABLE]
    ranges = {
        f: [profile.features[f].min, profile.features[f].max]  # type: ignore[union-attr]
        for f in vary
        if f in numeric
    }

    cairn: list[tuple[bool, bool, int, float, float]] = []
    other: list[tuple[bool, bool, int, float, float]] = []
    for i in picked:
        problem = CounterfactualProblem(
            scorer, X[i], features, ff.categories, threshold, policy, profile
        )
        feasible = {f.name: f for f in feasible_features(problem)}
        started = time.perf_counter()
        cf = find_counterfactual(problem)
        ms = (time.perf_counter() - started) * 1000
        new = _apply(ff, inputs.iloc[[i]], {c.feature: c.after for c in cf.changes})
        valid = cf.found and bool(scorer.predict(new)[0] < threshold)
        cairn.append((cf.found, valid, len(cf.changes), cf.distance or 0.0, ms))

        query = values.loc[[frame.index[i]]]
        started = time.perf_counter()
        with warnings.catch_warnings():  # dice-ml 0.12 warns on current pandas
            warnings.simplefilter("ignore")
            answer = dice.generate_counterfactuals(
                query, total_CFs=total_cfs, desired_class="opposite", features_to_vary=vary,
                permitted_range=ranges, stopping_threshold=1 - threshold, random_seed=seed,
                verbose=False,
            )  # fmt: skip
        found = answer.cf_examples_list[0].final_cfs_df  # None when it found none
        ms = (time.perf_counter() - started) * 1000
        other.append(_best(ff, scorer, query, found, feasible, X[i], threshold, ms))
    return _side("cairn", cairn), _side("dice-ml random", other)


def _apply(ff: FeatureFrame, row: pd.DataFrame, changes: dict[str, Any]) -> np.ndarray:
    """The code matrix of ``row`` (feature values) with ``changes`` applied."""
    out = row.astype(object).copy()
    for name, value in changes.items():
        out.iloc[0, out.columns.get_loc(name)] = value
    return ff.matrix(out)


def _best(
    ff: FeatureFrame,
    scorer: LightGBMScorer,
    query: pd.DataFrame,
    found: pd.DataFrame | None,
    feasible: dict[str, Feasible],
    x: np.ndarray,
    threshold: float,
    ms: float,
) -> tuple[bool, bool, int, float, float]:
    """dice's best candidate: valid first, then fewest changes, then smallest distance."""
    if found is None or found.empty:
        return False, False, 0, 0.0, ms
    cands = ff.matrix(found[ff.features])
    valid = scorer.predict(cands) < threshold
    best: tuple[bool, bool, int, float, float] | None = None
    for row, ok in zip(cands, valid, strict=True):
        changed = [
            j
            for j in range(len(x))
            if not (row[j] == x[j] or (math.isnan(row[j]) and math.isnan(x[j])))
        ]
        distance = sum(
            feasible[ff.features[j]].cost(float(x[j]), float(row[j]))
            if ff.features[j] in feasible
            else 1.0
            for j in changed
        )
        item = (True, bool(ok), len(changed), float(distance), ms)
        if best is None or (not item[1], item[2], item[3]) < (not best[1], best[2], best[3]):
            best = item
    assert best is not None and len(query) == 1
    return best


def _side(method: str, rows: list[tuple[bool, bool, int, float, float]]) -> Side:
    found = [r for r in rows if r[0]]
    return Side(
        method=method,
        rows=len(rows),
        found=len(found) / max(len(rows), 1),
        validity=sum(r[1] for r in found) / max(len(found), 1),
        sparsity=float(np.mean([r[2] for r in found])) if found else math.nan,
        distance=float(np.mean([r[3] for r in found])) if found else math.nan,
        ms=float(np.mean([r[4] for r in rows])) if rows else math.nan,
    )
