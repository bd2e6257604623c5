"""TreeSHAP from ``pred_contrib``: additive, equal to shap.TreeExplainer, and exact against a
brute-force Shapley computation over the trees' own expectations."""

from __future__ import annotations

import itertools
import math
import warnings
from typing import Any

import lightgbm as lgb
import numpy as np
import pytest

from cairn.explain import split_references, tree_contributions


@pytest.fixture(scope="module")
def model() -> tuple[lgb.Booster, np.ndarray]:
    rng = np.random.default_rng(20261126)
    X = rng.normal(size=(400, 4))
    y = (X[:, 0] - 0.5 * X[:, 1] + 0.3 * X[:, 2] * X[:, 3] + rng.normal(0, 0.5, 400) > 0).astype(
        int
    )
    params = {"objective": "binary", "verbose": -1, "num_threads": 1, "seed": 1}
    return lgb.train(params, lgb.Dataset(X, y), num_boost_round=20), X


def test_contributions_add_up_to_the_raw_score(model: tuple[lgb.Booster, np.ndarray]) -> None:
    booster, X = model
    phi = tree_contributions(booster, X[:50])
    assert phi.shape == (50, 5)
    np.testing.assert_allclose(phi.sum(axis=1), booster.predict(X[:50], raw_score=True), atol=1e-9)


def test_contributions_equal_shap_tree_explainer(model: tuple[lgb.Booster, np.ndarray]) -> None:
    shap = pytest.importorskip("shap")
    booster, X = model
    explainer = shap.TreeExplainer(booster)
    with warnings.catch_warnings():  # shap notes its output shape for binary LightGBM
        warnings.simplefilter("ignore", UserWarning)
        values = explainer.shap_values(X[:20])
    expected = np.asarray(values[1] if isinstance(values, list) else values)
    phi = tree_contributions(booster, X[:20])
    np.testing.assert_allclose(phi[:, :-1], expected, atol=1e-6)
    np.testing.assert_allclose(phi[:, -1], explainer.expected_value, atol=1e-6)


def _tree_expectation(node: dict[str, Any], x: np.ndarray, known: frozenset[int]) -> float:
    """E[tree(x)] when only features in ``known`` are fixed (cover-weighted, as TreeSHAP)."""
    if "leaf_value" in node:
        return float(node["leaf_value"])
    left, right = node["left_child"], node["right_child"]
    feature = node["split_feature"]
    if feature in known:
        return _tree_expectation(left if x[feature] <= node["threshold"] else right, x, known)
    n_left = left.get("internal_count", left.get("leaf_count", 0))
    n_right = right.get("internal_count", right.get("leaf_count", 0))
    total = float(n_left + n_right)
    weighted = n_left * _tree_expectation(left, x, known) + n_right * _tree_expectation(
        right, x, known
    )
    return float(weighted / total)


def test_contributions_equal_brute_force_shapley(model: tuple[lgb.Booster, np.ndarray]) -> None:
    booster, X = model
    trees = [t["tree_structure"] for t in booster.dump_model()["tree_info"]]
    x = X[7]
    n = X.shape[1]

    def value(known: frozenset[int]) -> float:
        return sum(_tree_expectation(t, x, known) for t in trees)

    brute = np.zeros(n)
    for i in range(n):
        others = [j for j in range(n) if j != i]
        for size in range(n):
            for subset in itertools.combinations(others, size):
                s = frozenset(subset)
                weight = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
                brute[i] += weight * (value(s | {i}) - value(s))
    phi = tree_contributions(booster, x[None, :])[0]
    np.testing.assert_allclose(phi[:-1], brute, atol=1e-9)
    assert phi[-1] == pytest.approx(value(frozenset()), abs=1e-9)


def test_split_references_lie_within_the_features_range(
    model: tuple[lgb.Booster, np.ndarray],
) -> None:
    booster, X = model
    refs = split_references(booster)
    assert set(refs) <= {f"Column_{i}" for i in range(4)} and refs
    for name, ref in refs.items():
        col = X[:, int(name.split("_")[1])]
        assert col.min() <= ref <= col.max()
