"""DeLong's AUC variance and paired test against an independent O(m·n) implementation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm, rankdata
from sklearn.metrics import roc_auc_score

from cairn.core.errors import DataError
from cairn.experiments.champion.delong import (
    delong_auc,
    delong_test,
    midranks,
    structural_components,
)


def _psi(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The Mann–Whitney kernel for every (positive, negative) pair: 1, 1/2 on ties, 0."""
    kernel: np.ndarray = (x[:, None] > y[None, :]) + 0.5 * (x[:, None] == y[None, :])
    return kernel


def _slow_delong(labels: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """DeLong et al. (1988) written out with the full m x n comparison matrix."""
    pos, neg = labels > 0, labels <= 0
    m, n = int(pos.sum()), int(neg.sum())
    comps = []
    for s in (a, b):
        kernel = _psi(s[pos], s[neg])
        comps.append((kernel.mean(), kernel.mean(axis=1), kernel.mean(axis=0)))
    s10 = np.cov(np.vstack([comps[0][1], comps[1][1]]))
    s01 = np.cov(np.vstack([comps[0][2], comps[1][2]]))
    cov = s10 / m + s01 / n
    var_a = cov[0, 0]
    var_diff = cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]
    return float(comps[0][0]), float(var_a), float(var_diff)


def _data(seed: int, n: int, ties: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (rng.uniform(size=n) < 0.3).astype(float)
    y[:4] = [0.0, 0.0, 1.0, 1.0]
    a = y * 0.8 + rng.normal(size=n)
    b = y * 1.2 + rng.normal(size=n)
    if ties:
        a, b = np.round(a, 1), np.round(b, 1)
    return y, a, b


@given(values=st.lists(st.integers(-5, 5), min_size=1, max_size=40))
def test_midranks_equal_scipy_average_ranks(values: list[int]) -> None:
    arr = np.asarray(values, dtype=float)
    np.testing.assert_array_equal(midranks(arr), rankdata(arr, method="average"))


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(6, 80),
    ties=st.booleans(),
)
def test_fast_delong_equals_the_quadratic_definition(seed: int, n: int, ties: bool) -> None:
    y, a, b = _data(seed, n, ties)
    auc, var_a, var_diff = _slow_delong(y, a, b)
    result = delong_auc(y, a)
    assert result.auc == pytest.approx(auc, abs=1e-12)
    assert result.auc == pytest.approx(roc_auc_score(y, a), abs=1e-12)
    assert result.se == pytest.approx(math.sqrt(var_a), rel=1e-9, abs=1e-12)
    diff = delong_test(y, a, b)
    assert diff.difference == pytest.approx(roc_auc_score(y, b) - roc_auc_score(y, a), abs=1e-12)
    assert diff.se == pytest.approx(math.sqrt(max(var_diff, 0.0)), rel=1e-9, abs=1e-12)


def test_structural_components_average_to_the_auc() -> None:
    y, a, _ = _data(3, 200, ties=True)
    auc, v10, v01 = structural_components(y, a)
    assert v10.mean() == pytest.approx(auc) and v01.mean() == pytest.approx(auc)


def test_delong_test_p_value_and_interval_are_normal_theory() -> None:
    y, a, b = _data(11, 500, ties=False)
    d = delong_test(y, a, b, alpha=0.1)
    assert d.z == pytest.approx(d.difference / d.se)
    assert d.p_value == pytest.approx(2 * norm.sf(abs(d.z)))
    half = norm.ppf(0.95) * d.se
    assert d.ci == pytest.approx((d.difference - half, d.difference + half))
    assert d.auc_b > d.auc_a and d.p_value < 0.05  # b separates the classes better by design


def test_identical_scores_differ_by_nothing() -> None:
    y, a, _ = _data(5, 100, ties=False)
    d = delong_test(y, a, a)
    assert (d.difference, d.se, d.p_value) == (0.0, 0.0, 1.0)


def test_auc_interval_stays_in_unit_range() -> None:
    y = np.array([0, 0, 0, 1, 1, 1], dtype=float)
    r = delong_auc(y, np.array([0.1, 0.2, 0.3, 0.7, 0.8, 0.9]))
    assert r.auc == 1.0 and r.ci[1] <= 1.0 and r.ci[0] <= 1.0


@pytest.mark.parametrize(
    ("labels", "scores", "message"),
    [
        ([1, 1, 1], [0.1, 0.2, 0.3], "both classes"),
        ([0, 1], [0.1, 0.2, 0.3], "same length"),
        ([0, 1, 0], [0.1, math.nan, 0.3], "finite"),
    ],
)
def test_bad_input_is_one_clear_error(
    labels: list[float], scores: list[float], message: str
) -> None:
    with pytest.raises(DataError, match=message):
        delong_auc(labels, scores)
