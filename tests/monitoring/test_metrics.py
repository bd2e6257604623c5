"""Each drift metric against its definition: scipy where scipy has it, PSI by hand."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.spatial.distance import jensenshannon
from statsmodels.stats.proportion import proportions_ztest

from cairn.monitoring.metrics import (
    EPSILON,
    bin_counts,
    chi2_two_sample,
    ecdf_grid,
    js_distance,
    ks_2samp,
    null_share_test,
    psi,
    psi_evidently,
    wasserstein_distance,
)
from cairn.monitoring.metrics.ks import Method
from cairn.monitoring.metrics.psi import Side
from cairn.quality.psi import psi as quality_psi

FINITE = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False, width=64)
# a few distinct values make ties, where ECDF code usually goes wrong; at least 2 values per
# sample, as scipy's own asymptotic p-value divides by zero for 1 against 1
TIED = st.sampled_from([-2.0, -0.5, 0.0, 0.0, 1.0, 3.5])
SAMPLE = st.one_of(
    arrays(np.float64, st.integers(2, 300), elements=FINITE),
    arrays(np.float64, st.integers(2, 300), elements=TIED),
)


@settings(max_examples=150, deadline=None)
@given(u=SAMPLE, v=SAMPLE)
def test_ks_equals_scipy_exact_and_asymptotic(u: np.ndarray, v: np.ndarray) -> None:
    a, b = np.sort(u), np.sort(v)
    methods: tuple[Method, ...] = ("exact", "asymp", "auto")
    for method in methods:
        with warnings.catch_warnings():  # scipy's exact -> asymp fallback warns
            warnings.simplefilter("ignore", RuntimeWarning)
            expected = scipy.stats.ks_2samp(a, b, method=method)
        d, p = ks_2samp(a, b, method=method)
        assert (d, p) == (expected.statistic, expected.pvalue)
    # the grid path (used above 10,000 values) on small data, against scipy's asymptotics
    d, p = ks_2samp(a, b, method="asymp", grid=ecdf_grid(a, b))
    expected = scipy.stats.ks_2samp(a, b, method="asymp")
    assert (d, p) == (expected.statistic, expected.pvalue)


def test_ks_above_the_exact_limit_uses_the_grid_and_equals_scipy(global_random_seed: int) -> None:
    rng = np.random.default_rng(global_random_seed)
    a = np.sort(np.round(rng.normal(size=12_000), 2))
    b = np.sort(np.round(rng.normal(0.01, 1, size=40_000), 2))
    assert ks_2samp(a, b) == tuple(scipy.stats.ks_2samp(a, b))
    with pytest.raises(ValueError, match="non-empty"):
        ks_2samp(a, np.empty(0))


@settings(max_examples=150, deadline=None)
@given(u=SAMPLE, v=SAMPLE)
def test_wasserstein_equals_scipy(u: np.ndarray, v: np.ndarray) -> None:
    got = wasserstein_distance(np.sort(u), np.sort(v))
    assert got == pytest.approx(scipy.stats.wasserstein_distance(u, v), rel=1e-9, abs=1e-9)


@settings(max_examples=150, deadline=None)
@given(u=SAMPLE, v=SAMPLE)
def test_ks_and_wasserstein_equal_scipy_on_unsorted_input(u: np.ndarray, v: np.ndarray) -> None:
    """Issue 17: unsorted samples gave KS 0.98 (scipy 0.0236) and W1 4.17 (scipy 3.5)."""
    assert wasserstein_distance(u, v) == pytest.approx(
        scipy.stats.wasserstein_distance(u, v), rel=1e-9, abs=1e-9
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert ks_2samp(u, v) == tuple(scipy.stats.ks_2samp(u, v))


def test_ks_on_large_unsorted_samples_equals_scipy(global_random_seed: int) -> None:
    """Above 10,000 values KS reads the ECDF grid, which needs sorted samples."""
    rng = np.random.default_rng(global_random_seed)
    a, b = rng.normal(size=20_000), rng.normal(0.02, 1, size=30_000)
    assert ks_2samp(a, b) == tuple(scipy.stats.ks_2samp(a, b))
    assert wasserstein_distance(a, b) == pytest.approx(
        scipy.stats.wasserstein_distance(a, b), rel=1e-9
    )


@settings(max_examples=100, deadline=None)
@given(
    w=arrays(np.float64, st.integers(1, 30), elements=st.floats(0, 1e4)),
    seed=st.integers(0, 2**32 - 1),
)
def test_jensen_shannon_equals_scipy_base_2(w: np.ndarray, seed: int) -> None:
    other = np.random.default_rng(seed).permutation(w)
    if w.sum() == 0:
        return
    expected = float(jensenshannon(w, other, base=2))
    assert js_distance(w, other) == pytest.approx(expected, abs=1e-12)
    assert 0.0 <= js_distance(w, other) <= 1.0


def test_jensen_shannon_bounds() -> None:
    assert js_distance([1, 0, 0], [0, 0, 1]) == 1.0
    assert js_distance([0.2, 0.8], [0.2, 0.8]) == 0.0
    with pytest.raises(ValueError, match="same bins"):
        js_distance([1, 2], [1, 2, 3])


@settings(max_examples=100, deadline=None)
@given(
    ref=arrays(np.int64, 6, elements=st.integers(0, 500)),
    cur=arrays(np.int64, 6, elements=st.integers(0, 500)),
)
def test_chi2_is_the_contingency_test(ref: np.ndarray, cur: np.ndarray) -> None:
    stat, p, dof = chi2_two_sample(ref, cur)
    keep = (ref + cur) > 0
    table = np.vstack((ref[keep], cur[keep]))
    if p is None:
        assert keep.sum() < 2 or ref.sum() == 0 or cur.sum() == 0
        return
    expected = scipy.stats.chi2_contingency(table, correction=False)
    assert stat == pytest.approx(expected.statistic, rel=1e-9, abs=1e-9)
    assert p == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)
    assert dof == expected.dof


def test_null_share_test_is_the_pooled_two_proportion_z_test() -> None:
    p = null_share_test(120, 10_000, 80, 5_000)
    _, expected = proportions_ztest([120, 80], [10_000, 5_000])
    assert p == pytest.approx(expected, rel=1e-12)
    assert null_share_test(0, 100, 0, 100) == 1.0
    assert null_share_test(0, 0, 5, 10) is None


def test_psi_by_hand() -> None:
    # two bins: 50/50 against 40/60
    expected = (0.4 - 0.5) * math.log(0.4 / 0.5) + (0.6 - 0.5) * math.log(0.6 / 0.5)
    assert psi([0.5, 0.5], [0.4, 0.6]) == pytest.approx(expected, rel=1e-15)
    # an empty bin on one side is floored at epsilon, on both sides (symmetric)
    floored = (0.5 - 0.5) * 0 + (EPSILON - 0.5) * math.log(EPSILON / 0.5)
    floored += (0.5 - EPSILON) * math.log(0.5 / EPSILON)
    assert psi([0.5, 0.5, 0.0], [0.5, 0.0, 0.5]) == pytest.approx(floored, rel=1e-12)
    assert psi([0.5, 0.5, 0.0], [0.5, 0.0, 0.5]) == psi([0.5, 0.0, 0.5], [0.5, 0.5, 0.0])
    assert psi([0.3, 0.7], [0.3, 0.7]) == 0.0
    assert psi is quality_psi  # one PSI for quality and monitoring


def test_psi_evidently_by_hand_asymmetric_fill() -> None:
    # value bins (<= 20 distinct reference values): a, b, c; c is new
    ref, cur = ["a", "a", "b", "b"], ["a", "b", "c", "c"]
    p = np.array([0.5, 0.5, 1e-4])  # reference: zero share -> 1e-4 (its min share > 1e-4)
    q = np.array([0.25, 0.25, 0.5])
    expected = float(np.sum((p - q) * np.log(p / q)))
    assert psi_evidently(ref, cur, categorical=True) == pytest.approx(expected, rel=1e-12)
    # with a reference share <= 1e-4 the fill becomes min / 1e6
    big = ["a"] * 20_000 + ["b"]
    p = np.array([20_000 / 20_001, 1 / 20_001, 1 / 20_001 / 1e6])
    q = np.array([0.5, 1e-4, 0.5])  # current: b is empty; its min share 0.5 -> fill 1e-4
    expected = float(np.sum((p - q) * np.log(p / q)))
    got = psi_evidently(big, ["a", "c"], categorical=True)
    assert got == pytest.approx(expected, rel=1e-12)


@settings(max_examples=100, deadline=None)
@given(values=arrays(np.float64, st.integers(0, 200), elements=TIED | FINITE))
def test_bin_counts_match_per_value_searchsorted(values: np.ndarray) -> None:
    edges = [-0.5, 0.0, 1.0]
    sides: tuple[Side, ...] = ("left", "right")
    for side in sides:
        got = bin_counts(np.sort(values), edges, side=side)
        index = np.searchsorted(edges, values, side=side)
        assert got.tolist() == np.bincount(index, minlength=4).tolist()
