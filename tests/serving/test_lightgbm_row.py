"""LightGBM's single-row C call scores exactly what ``Booster.predict`` scores."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np

from cairn.serving.lightgbm_row import SingleRow
from cairn.serving.scorers import LightGBMScorer


def _data(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(400, 6))
    X[rng.random(X.shape) < 0.1] = np.nan  # missing values take the trees' default branches
    y = (np.nan_to_num(X[:, 0]) + rng.normal(scale=0.5, size=400) > 0).astype(int)
    return X, y


def test_single_rows_score_as_booster_predict() -> None:
    X, y = _data(20261207)
    booster = lgb.train({"objective": "binary", "verbose": -1}, lgb.Dataset(X, y), 30)
    row = SingleRow(booster)
    fast = np.array([row.predict(X[i : i + 1])[0] for i in range(len(X))])  # type: ignore[index]
    assert np.array_equal(fast, booster.predict(X, num_threads=1))
    assert row.predict(X[:2]) is None  # several rows: Booster.predict's job


def test_best_iteration_is_honoured() -> None:
    X, y = _data(7)
    booster = lgb.train({"objective": "binary", "verbose": -1}, lgb.Dataset(X, y), 30)
    booster.best_iteration = 10
    fast = SingleRow(booster).predict(X[:1])
    assert fast is not None
    assert fast[0] == booster.predict(X[:1], num_threads=1)[0]


def test_a_multiclass_model_falls_back_to_booster_predict() -> None:
    X, y = _data(11)
    labels = y + (np.nan_to_num(X[:, 1]) > 0.5)
    params = {"objective": "multiclass", "num_class": 3, "verbose": -1}
    booster = lgb.train(params, lgb.Dataset(X, labels), 10)
    assert SingleRow(booster).predict(X[:1]) is None  # one output per class: not this path
    scorer = LightGBMScorer(booster)
    assert np.array_equal(scorer.predict(X[:1]), booster.predict(X[:1], num_threads=1))
    assert np.array_equal(scorer.predict(X[:1]), booster.predict(X[:1], num_threads=1))
