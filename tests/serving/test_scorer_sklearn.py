"""The scikit-learn scorer: the DataFrame it rebuilds from codes, its contributions per
method (exact linear SHAP, permutation sampling, TreeSHAP on probabilities mapped to
log-odds), and the loader's refusals (an untrusted skops type, a pickle)."""

from __future__ import annotations

import json
import operator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from cairn.core.errors import ConfigError
from cairn.explain.sklearn_shap import LinearShap
from cairn.serving.scorer_sklearn import SIDECAR, SklearnScorer, load_sklearn, trusted_types
from cairn.training.estimators import code_matrix

FEATURES = ["a", "b", "c"]


def _frame(n: int = 300, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        rng.normal(size=(n, 3)) * [1.0, 3.0, 0.5] + [0.0, 10.0, -1.0], columns=FEATURES
    )
    y = ((X["a"] - (X["b"] - 10) / 3 + rng.normal(size=n)) > 0).astype(int).to_numpy()
    X.loc[rng.random(n) < 0.1, "b"] = np.nan
    return X, y


def test_linear_pipeline_contributions_are_exact() -> None:
    X, y = _frame()
    model = make_pipeline(SimpleImputer(), StandardScaler(), LogisticRegression()).fit(X, y)
    means = LinearShap.transformed_means(model, X)
    scorer = SklearnScorer(model, FEATURES, {}, linear_means=means)
    assert scorer.method == "linear"
    codes = code_matrix(X)
    phi = scorer.contributions(codes)
    assert np.abs(phi.sum(axis=1) - model.decision_function(X)).max() < 1e-9
    assert np.abs(scorer.predict(codes) - model.predict_proba(X)[:, 1]).max() < 1e-12
    # interventional: coef * (z - mean z) per column; the mean row gets nothing but the bias
    z = model[:-1].transform(X)
    np.testing.assert_allclose(phi[:, 0], model[-1].coef_[0, 0] * (z[:, 0] - means[0]), atol=1e-12)
    assert np.abs(phi[:, :-1].mean(axis=0)).max() < 1e-9


def test_sampling_is_additive_and_deterministic() -> None:
    X, y = _frame()
    X = X.fillna(0.0)
    model = KNeighborsClassifier(n_neighbors=15).fit(X, y)
    background = code_matrix(X.sample(n=20, random_state=1))
    scorer = SklearnScorer(model, FEATURES, {}, background=background)
    assert scorer.method == "sampling"
    rows = code_matrix(X.head(5))
    phi = scorer.contributions(rows)
    assert np.abs(phi.sum(axis=1) - scorer.margin(rows)).max() < 1e-9
    assert phi[0, -1] == pytest.approx(scorer.margin(background).mean(), abs=1e-12)
    np.testing.assert_array_equal(phi, scorer.contributions(rows))  # fixed seed


def test_a_forest_explains_its_probability_in_log_odds() -> None:
    X, y = _frame()
    model = RandomForestClassifier(n_estimators=20, max_depth=5, random_state=0).fit(X, y)
    scorer = SklearnScorer(model, FEATURES, {})
    rows = code_matrix(X.head(50))
    phi = scorer.contributions(rows)
    p = model.predict_proba(X.head(50))[:, 1]
    assert np.abs(phi.sum(axis=1) - np.log(p / (1 - p))).max() < 1e-9


def test_categories_come_back_as_the_fitted_levels() -> None:
    levels = ["no", "yes"]
    X = pd.DataFrame({"a": [1.0, np.nan, 3.0], "r": pd.Categorical(["yes", None, "no"], levels)})
    scorer = SklearnScorer(
        KNeighborsClassifier(), ["a", "r"], {"r": levels}, background=np.zeros((1, 2))
    )
    back = scorer.frame(code_matrix(X))
    pd.testing.assert_frame_equal(back, X)


def test_an_untrusted_type_is_refused(tmp_path: Path) -> None:
    X, y = _frame()
    model = make_pipeline(FunctionTransformer(operator.abs), SimpleImputer(), LogisticRegression())
    model.fit(X, y)
    assert any(not t.startswith(("sklearn", "numpy", "scipy")) for t in trusted_types(model))
    sio.dump(model, tmp_path / "model.skops")
    with pytest.raises(ConfigError, match="outside the trusted sklearn/numpy/scipy allow-list"):
        load_sklearn(tmp_path, features=FEATURES, categories={})


def test_a_pickle_is_refused_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "model.pkl").write_bytes(b"not loaded")
    with pytest.raises(ConfigError, match="loading a pickle runs code.*retrain"):
        load_sklearn(tmp_path, features=FEATURES, categories={})


def test_a_trusted_skops_file_loads(tmp_path: Path) -> None:
    X, y = _frame()
    model = make_pipeline(SimpleImputer(), StandardScaler(), LogisticRegression()).fit(X, y)
    sio.dump(model, tmp_path / "model.skops")
    means = LinearShap.transformed_means(model, X).tolist()
    (tmp_path / SIDECAR).write_text(json.dumps({"linear_means": means}))
    scorer = load_sklearn(tmp_path, features=FEATURES, categories={})
    assert scorer.method == "linear"
    codes = code_matrix(X.head(10))
    np.testing.assert_allclose(scorer.predict(codes), model.predict_proba(X.head(10))[:, 1])
