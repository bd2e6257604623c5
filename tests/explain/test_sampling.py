"""Sampled Shapley values (:func:`cairn.explain.sampling.explain_rows`): they add up to the
margin exactly, are reproducible from the seed, equal exact linear SHAP for a linear model,
and converge to the exact Shapley values of the background game (computed by enumerating every
coalition) as the budget grows, the error shrinking as 1/sqrt(permutations) and the exact value
lying within 3 standard errors for most features."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from cairn.core.errors import ConfigError, DataError
from cairn.explain.sampling import MAX_PERMUTATIONS, check_budget, explain_rows
from cairn.explain.sklearn_shap import LinearShap

K = 5


class Margin:
    """A fitted classifier's decision function as the margin explained."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def margin(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(self.model.decision_function(X), dtype=np.float64)


def _data(n: int = 400, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, K))
    logit = X[:, 0] * X[:, 1] + np.sin(2 * X[:, 2]) + 0.5 * X[:, 3] + (X[:, 4] > 0.5)
    return X, (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)


@pytest.fixture(scope="module")
def game() -> tuple[Margin, np.ndarray, np.ndarray, np.ndarray]:
    """A non-additive model, rows to explain, a background and the exact Shapley values."""
    X, y = _data()
    model = GradientBoostingClassifier(n_estimators=40, max_depth=3, random_state=0).fit(X, y)
    scorer = Margin(model)
    rows, background = X[:12], X[100:130]
    return scorer, rows, background, _exact_shapley(scorer, rows, background)


def _exact_shapley(scorer: Margin, rows: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Shapley values of v(S) = mean over the background of the margin with the features in
    S taken from the row, by enumerating all 2**K coalitions."""
    out = np.zeros((len(rows), K))
    for r, x in enumerate(rows):
        value: dict[frozenset[int], float] = {}
        for size in range(K + 1):
            for coalition in itertools.combinations(range(K), size):
                z = background.copy()
                z[:, list(coalition)] = x[list(coalition)]
                value[frozenset(coalition)] = float(scorer.margin(z).mean())
        for j in range(K):
            others = [i for i in range(K) if i != j]
            for size in range(K):
                weight = math.factorial(size) * math.factorial(K - size - 1) / math.factorial(K)
                for coalition in itertools.combinations(others, size):
                    s = frozenset(coalition)
                    out[r, j] += weight * (value[s | {j}] - value[s])
    return out


def test_the_sampled_values_converge_to_the_exact_ones(game: Any) -> None:
    scorer, rows, background, exact = game
    errors, reported = [], []
    for budget in (8, 32, 128):
        squared, se, inside = [], [], []
        for seed in range(4):  # one seed's orders serve every row: average a few seeds
            out = explain_rows(scorer, rows, background, permutations=budget, seed=seed)
            assert np.abs(out.contributions.sum(axis=1) - scorer.margin(rows)).max() < 1e-9
            error = out.contributions[:, :-1] - exact
            squared.append(np.mean(error**2))
            se.append(np.sqrt(np.mean(out.standard_errors**2)))
            inside.append(np.mean(np.abs(error) <= 3 * out.standard_errors + 1e-12))
        errors.append(float(np.sqrt(np.mean(squared))))
        reported.append(float(np.mean(se)))
        # the exact value lies within 3 standard errors for most features
        assert np.mean(inside) >= 0.9, (budget, inside)
    print({"rmse": errors, "reported_se": reported})
    # 16 times the budget: about 4 times smaller errors, measured and reported
    assert errors[0] > errors[1] > errors[2]
    assert 2.0 < errors[0] / errors[2] < 8.0, errors
    assert 2.0 < reported[0] / reported[2] < 8.0, reported
    # the reported standard error is the size of the actual error
    assert 0.5 < errors[2] / reported[2] < 2.0, (errors, reported)


def test_the_bias_is_the_background_mean_margin(game: Any) -> None:
    scorer, rows, background, _ = game
    out = explain_rows(scorer, rows, background, permutations=4)
    np.testing.assert_allclose(out.contributions[:, -1], scorer.margin(background).mean())
    assert (out.permutations, out.seed, out.background_rows) == (4, 0, len(background))


def test_a_fixed_seed_gives_the_same_values(game: Any) -> None:
    scorer, rows, background, _ = game
    a = explain_rows(scorer, rows, background, permutations=16, seed=11)
    b = explain_rows(scorer, rows, background, permutations=16, seed=11)
    c = explain_rows(scorer, rows, background, permutations=16, seed=12)
    np.testing.assert_array_equal(a.contributions, b.contributions)
    np.testing.assert_array_equal(a.standard_errors, b.standard_errors)
    assert not np.array_equal(a.contributions, c.contributions)


def test_a_linear_model_is_explained_exactly_at_any_budget() -> None:
    X, y = _data()
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    exact = LinearShap(model, [f"x{j}" for j in range(K)], LinearShap.transformed_means(model, X))
    out = explain_rows(Margin(model), X[:20], X, permutations=2, seed=5)
    np.testing.assert_allclose(out.contributions, exact.contributions(X[:20]), atol=1e-9)
    assert out.standard_errors.max() < 1e-9  # every order gives the same marginal values


@settings(max_examples=25, deadline=None, derandomize=True, database=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    budget=st.integers(2, 12),
    weights=st.lists(st.floats(-3, 3), min_size=3, max_size=3),
)
def test_additive_and_reproducible_for_any_seed_and_budget(
    seed: int, budget: int, weights: list[float]
) -> None:
    class Interacting:
        def margin(self, X: np.ndarray) -> np.ndarray:
            w = np.asarray(weights)
            return np.asarray(X @ w + X[:, 0] * X[:, 1] * X[:, 2], dtype=np.float64)

    rng = np.random.default_rng(seed % 1000)
    rows, background = rng.normal(size=(3, 3)), rng.normal(size=(6, 3))
    out = explain_rows(Interacting(), rows, background, permutations=budget, seed=seed)
    again = explain_rows(Interacting(), rows, background, permutations=budget, seed=seed)
    assert np.abs(out.contributions.sum(axis=1) - Interacting().margin(rows)).max() < 1e-9
    np.testing.assert_array_equal(out.contributions, again.contributions)
    assert (out.standard_errors >= 0).all()


@pytest.mark.parametrize("budget", [0, 1, MAX_PERMUTATIONS + 1, True, 2.5, "16"])
def test_a_budget_out_of_range_is_refused(budget: Any) -> None:
    with pytest.raises(ConfigError, match=r"permutations must be an integer from 2 to 256; got"):
        check_budget(budget)
    with pytest.raises(ConfigError):
        explain_rows(Margin(None), np.zeros((1, 2)), np.zeros((3, 2)), permutations=budget)


def test_shapes_are_checked() -> None:
    with pytest.raises(DataError, match=r"same columns; got X of shape \(1, 2\)"):
        explain_rows(Margin(None), np.zeros((1, 2)), np.zeros((3, 4)))
    with pytest.raises(DataError, match="at least one row"):
        explain_rows(Margin(None), np.zeros((1, 2)), np.zeros((0, 2)))
