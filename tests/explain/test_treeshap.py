"""Exact TreeSHAP over scikit-learn trees: equal to shap's TreeExplainer (1e-9) on rows with
missing values, additive to the model's output, categorical HistGradientBoosting included."""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn import ensemble, tree

from cairn.core.errors import ConfigError
from cairn.explain import treeshap_paths
from cairn.explain.treeshap import model_input, tree_ensemble, tree_shap

N = 400


def _shap() -> Any:
    with warnings.catch_warnings():  # shap's import notes matplotlib deprecations
        warnings.simplefilter("ignore")
        import shap

    return shap


def _shap_values(model: Any, rows: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        values = _shap().TreeExplainer(model).shap_values(rows, check_additivity=False)
    return np.asarray(values)


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(20)
    X = rng.normal(size=(N, 4))
    X[rng.random((N, 4)) < 0.1] = np.nan
    signal = np.nan_to_num(X[:, 0]) + 0.5 * np.nan_to_num(X[:, 1]) + rng.normal(size=N) * 0.5
    return X, (signal > 0).astype(int)


def _output(model: Any, X: np.ndarray) -> np.ndarray:
    if hasattr(model, "decision_function"):
        return np.asarray(model.decision_function(X))
    if hasattr(model, "predict_proba"):
        return np.asarray(model.predict_proba(X)[:, 1])
    return np.asarray(model.predict(X))


MODELS = [
    tree.DecisionTreeClassifier(max_depth=5, random_state=0),
    tree.DecisionTreeRegressor(max_depth=5, random_state=0),
    ensemble.RandomForestClassifier(n_estimators=15, max_depth=6, random_state=0),
    ensemble.RandomForestRegressor(n_estimators=10, max_depth=5, random_state=0),
    ensemble.ExtraTreesClassifier(n_estimators=15, max_depth=6, random_state=0),
    ensemble.HistGradientBoostingClassifier(max_iter=30, random_state=0),
]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: type(m).__name__)
def test_equal_to_shap_on_rows_with_missing_values(model: Any) -> None:
    X, y = _data()
    model.fit(X, y)
    rows = X[:60]
    assert np.isnan(rows).any()
    phi = tree_shap(tree_ensemble(model), rows)
    values = _shap_values(model, rows)
    if values.ndim == 3:  # per class: the positive one
        values = values[..., 1]
    assert np.abs(values - phi[:, :-1]).max() < 1e-9
    assert np.abs(phi.sum(axis=1) - _output(model, rows)).max() < 1e-9


def test_gradient_boosting_margin_is_init_plus_learning_rate_times_trees() -> None:
    X, y = _data()
    X = np.nan_to_num(X)  # GradientBoostingClassifier takes no missing values
    model = ensemble.GradientBoostingClassifier(n_estimators=25, random_state=0).fit(X, y)
    phi = tree_shap(tree_ensemble(model), X[:60])
    assert np.abs(_shap_values(model, X[:60]) - phi[:, :-1]).max() < 1e-9
    assert np.abs(phi.sum(axis=1) - model.decision_function(X[:60])).max() < 1e-9


def test_categorical_histogram_boosting_is_additive() -> None:
    """shap does not take string categories; the bitset splits are checked by additivity
    (every split path of a row must be the model's own for the sum to be exact)."""
    X, _ = _data()
    rng = np.random.default_rng(3)
    levels = ["a", "b", "c", "d", "e"]
    df = pd.DataFrame({"x0": X[:, 0], "x1": X[:, 1]})
    df["cat"] = pd.Categorical(rng.choice(levels, N), categories=levels)
    df.loc[rng.random(N) < 0.1, "cat"] = np.nan
    y = ((np.nan_to_num(df["x0"]) + df["cat"].isin(["b", "d"]).to_numpy()) > 0.5).astype(int)
    model = ensemble.HistGradientBoostingClassifier(
        max_iter=60, categorical_features="from_dtype", random_state=0
    ).fit(df, y)
    assert any(p.nodes["is_categorical"].any() for (p,) in model._predictors)
    phi = tree_shap(tree_ensemble(model), model_input(model, df))
    assert np.abs(phi.sum(axis=1) - model.decision_function(df)).max() < 1e-9
    assert np.abs(phi[:, 2]).max() > 0  # the category is credited in its own column


def test_the_lookup_table_equals_the_polynomial(monkeypatch: pytest.MonkeyPatch) -> None:
    """Leaves are explained by looking up their values per pattern of followed slots; with no
    room for tables, by the product polynomial per row: the same values, both equal to shap."""
    rng = np.random.default_rng(8)
    X = rng.normal(size=(N, 9))
    X[rng.random(X.shape) < 0.1] = np.nan
    y = np.nan_to_num(X[:, 0]) * np.nan_to_num(X[:, 1]) + np.nan_to_num(X[:, 2:]).sum(axis=1)
    model = tree.DecisionTreeRegressor(max_depth=12, min_samples_leaf=3, random_state=0).fit(X, y)
    rows = X[:50]
    looked_up = tree_ensemble(model)
    assert all(g.table is not None for g in looked_up.paths(9).groups)
    assert max(g.zero.shape[1] for g in looked_up.paths(9).groups) >= 8
    monkeypatch.setattr(treeshap_paths, "TABLE_CELLS", 0)
    computed = tree_ensemble(model)
    assert all(g.table is None for g in computed.paths(9).groups)
    a, b = tree_shap(looked_up, rows), tree_shap(computed, rows)
    assert np.abs(a - b).max() < 1e-12
    assert np.abs(_shap_values(model, rows) - b[:, :-1]).max() < 1e-9


def test_an_unsupported_model_is_refused_by_name() -> None:
    with pytest.raises(ConfigError, match="got LogisticRegression"):
        from sklearn.linear_model import LogisticRegression

        tree_ensemble(LogisticRegression())


@pytest.mark.slow
def test_time_per_row_against_shap() -> None:
    """The example's challenger shape (150 iterations, 15 leaves); prints both timings."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(3000, 21))
    X[rng.random(X.shape) < 0.05] = np.nan
    y = (np.nan_to_num(X[:, :5]).sum(axis=1) + rng.normal(size=3000) > 0).astype(int)
    model = ensemble.HistGradientBoostingClassifier(
        max_iter=150, learning_rate=0.05, max_leaf_nodes=15, random_state=0
    ).fit(X, y)
    rows = X[:200]
    ens = tree_ensemble(model)
    began = time.perf_counter()
    tree_shap(ens, rows[:1])  # the first call builds the leaf paths and their tables
    first = time.perf_counter() - began
    began = time.perf_counter()
    phi = tree_shap(ens, rows)
    ours = (time.perf_counter() - began) / len(rows)
    explainer = _shap().TreeExplainer(model)
    began = time.perf_counter()
    theirs_values = explainer.shap_values(rows)
    theirs = (time.perf_counter() - began) / len(rows)
    print(
        f"treeshap ms/row: cairn {ours * 1000:.3f} (first call {first * 1000:.0f} ms), "
        f"shap {theirs * 1000:.3f}"
    )
    assert np.abs(theirs_values - phi[:, :-1]).max() < 1e-9
