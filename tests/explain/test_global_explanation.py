"""explain_globally: additivity, PD/ICE by their definition, determinism, bad input."""

from __future__ import annotations

import json
from typing import Any

import lightgbm as lgb
import numpy as np
import pytest
from sklearn.inspection import partial_dependence
from sklearn.linear_model import LogisticRegression

from cairn.core.errors import ConfigError, DataError
from cairn.explain.global_explanation import GlobalExplanation, explain_globally
from cairn.serving.scorers import LightGBMScorer

NAMES = ["income", "debt", "home"]
LEVELS = {"home": ["own", "parents", "rent"]}


def tiny() -> tuple[LightGBMScorer, np.ndarray]:
    """A booster over two numbers and a categorical level index (NaN in places)."""
    rng = np.random.default_rng(7)
    n = 400
    X = np.column_stack(
        [rng.normal(50, 10, n), rng.normal(5, 2, n), rng.integers(0, 3, n).astype(float)]
    )
    X[rng.random(n) < 0.05, 1] = np.nan
    logit = -0.08 * (X[:, 0] - 50) + 0.4 * np.nan_to_num(X[:, 1] - 5) + 0.5 * (X[:, 2] == 2)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    params = {"objective": "binary", "verbose": -1, "seed": 0, "deterministic": True}
    data = lgb.Dataset(X, y, categorical_feature=[2])
    return LightGBMScorer(lgb.train({**params, "num_leaves": 7}, data, 20)), X


def test_importance_is_mean_abs_contribution_and_adds_up() -> None:
    scorer, X = tiny()
    e = explain_globally(scorer, X, NAMES, categories=LEVELS, seed=1)
    phi = scorer.contributions(X)
    assert list(e.importance) == sorted(NAMES, key=lambda n: -e.importance[n])
    for j, name in enumerate(NAMES):
        assert e.importance[name] == pytest.approx(np.abs(phi[:, j]).mean(), abs=1e-12)
    # additivity: the mean contributions plus the mean bias are the mean margin
    means = sum(s.mean for s in e.summary)
    assert means + e.bias == pytest.approx(scorer.margin(X).mean(), abs=1e-9)
    assert e.gain == {n: float(g) for n, g in zip(NAMES, scorer.gain(), strict=True)}
    assert e.units == "log-odds" and e.family == "lightgbm" and e.rows == 400
    income = next(s for s in e.summary if s.feature == "income")
    assert income.rises is not None and income.rises < 0.2  # a higher income lowers the score
    assert next(s for s in e.summary if s.feature == "home").rises is None
    assert all(s.quantiles == sorted(s.quantiles) for s in e.summary)


def test_partial_dependence_and_ice_follow_their_definition() -> None:
    scorer, X = tiny()
    e = explain_globally(scorer, X, NAMES, categories=LEVELS, top=3, grid=7, ice_rows=9, seed=3)
    sample = np.sort(np.random.default_rng(3).choice(len(X), size=9, replace=False))
    assert {d.feature for d in e.dependence} == set(NAMES)
    for d in e.dependence:
        j = NAMES.index(d.feature)
        if d.feature == "home":
            assert d.kind == "category" and d.grid == [0.0, 1.0, 2.0]
            assert d.grid_labels == LEVELS["home"]
        else:
            known = X[~np.isnan(X[:, j]), j]
            assert d.grid == np.unique(np.quantile(known, np.linspace(0, 1, 7))).tolist()
        for k, v in enumerate(d.grid):
            changed = X.copy()
            changed[:, j] = v
            p = scorer.predict(changed)
            assert d.average[k] == pytest.approx(p.mean(), abs=1e-12)
            assert [row[k] for row in d.individual] == pytest.approx(p[sample], abs=1e-12)


def test_deterministic_and_json_ready() -> None:
    scorer, X = tiny()
    one = explain_globally(scorer, X, NAMES, categories=LEVELS, seed=5, model="m")
    two = explain_globally(scorer, X, NAMES, categories=LEVELS, seed=5, model="m")
    text = json.dumps(one.to_dict(), sort_keys=True, allow_nan=False)
    assert text == json.dumps(two.to_dict(), sort_keys=True, allow_nan=False)
    assert GlobalExplanation.from_dict(json.loads(text)) == one
    other = explain_globally(scorer, X, NAMES, categories=LEVELS, seed=6, model="m")
    assert other.summary[0].strip != one.summary[0].strip  # the ICE sample follows the seed
    assert len(one.dependence) == 3 and len(one.dependence[0].individual) == 50


class Logistic:
    """A scorer over a scikit-learn logistic regression: exact linear contributions."""

    family, units = "sklearn", "log-odds"

    def __init__(self, estimator: LogisticRegression, X: np.ndarray) -> None:
        self.estimator, self.mean = estimator, X.mean(axis=0)

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(self.estimator.predict_proba(X)[:, 1])

    def contributions(self, X: np.ndarray) -> np.ndarray:
        coef = self.estimator.coef_[0]
        bias = self.estimator.intercept_[0] + coef @ self.mean
        return np.column_stack([(X - self.mean) * coef, np.full(len(X), bias)])

    def points_table(self) -> list[dict[str, Any]]:
        return [{"characteristic": "a", "bin": "(-inf, 0)", "points": 12.5}]


def test_same_definition_as_scikit_learns_partial_dependence() -> None:
    rng = np.random.default_rng(11)
    X = rng.normal(size=(300, 3))
    y = (X[:, 0] - X[:, 2] + rng.normal(size=300) > 0).astype(int)
    scorer = Logistic(LogisticRegression().fit(X, y), X)
    phi = scorer.contributions(X)
    logit = scorer.estimator.decision_function(X)
    assert np.allclose(phi.sum(axis=1), logit, atol=1e-12)
    names = ["a", "b", "c"]
    e = explain_globally(scorer, X, names, categories={}, grid=9, ice_rows=300, seed=0)
    for d in e.dependence:
        j = names.index(d.feature)
        expected = partial_dependence(
            scorer.estimator, X, [j], kind="both", method="brute",
            custom_values={j: np.asarray(d.grid)},
        )  # fmt: skip
        assert np.allclose(expected["grid_values"][0], d.grid)
        assert np.allclose(expected["average"][0], d.average, atol=1e-12)
        assert np.allclose(expected["individual"][0], d.individual, atol=1e-12)
    assert e.points == [{"characteristic": "a", "bin": "(-inf, 0)", "points": 12.5}]
    assert e.gain is None


def test_bad_input_is_one_clear_error() -> None:
    scorer, X = tiny()
    with pytest.raises(DataError, match=r"\(rows, 3\) matrix .* got shape \(400, 2\)"):
        explain_globally(scorer, X[:, :2], NAMES, categories=LEVELS, seed=0)
    with pytest.raises(DataError, match="non-empty"):
        explain_globally(scorer, X[:0], NAMES, categories=LEVELS, seed=0)
    with pytest.raises(ConfigError, match="top >= 1.*got top=0"):
        explain_globally(scorer, X, NAMES, categories=LEVELS, top=0, seed=0)
    with pytest.raises(DataError, match="keys of GlobalExplanation"):
        GlobalExplanation.from_dict({"model": "m"})


def test_xgboost_gain_is_its_total_split_gain_in_feature_order() -> None:
    import xgboost as xgb

    from cairn.explain.report import render_html
    from cairn.serving.scorer_xgboost import XGBoostScorer

    _, X = tiny()
    rng = np.random.default_rng(3)
    noise = rng.normal(size=len(X))
    X = np.column_stack([X, noise])  # a fourth column the stumps below never split on
    y = (X[:, 0] < 50).astype(int)
    names = [*NAMES, "noise"]
    d = xgb.DMatrix(X, y, feature_names=names, feature_types=["float", "float", "c", "float"],
                    enable_categorical=True)  # fmt: skip
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 1, "seed": 0}, d, 5)
    scorer = XGBoostScorer(booster)
    e = explain_globally(scorer, X, names, categories=LEVELS, seed=1)
    total = booster.get_score(importance_type="total_gain")
    assert e.gain is not None and set(e.gain) == set(names)
    assert e.gain["income"] == pytest.approx(total["income"], rel=1e-12)
    assert e.gain["noise"] == 0.0 and "noise" not in total
    assert list(e.gain) == list(e.importance)  # ranked like the importance
    assert GlobalExplanation.from_dict(json.loads(json.dumps(e.to_dict()))).gain == e.gain
    assert "gain share" in render_html(e)
