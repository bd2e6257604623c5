"""Binning rules of reference profiles (DESIGN §3.5, issue 17): value bins, point masses, one
closure, PSI(X, X) = 0, and drift that sees every move between reference values."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cairn.profiles import (
    MAX_VALUE_BINS,
    POINT_MASS,
    NumericBins,
    NumericReference,
    band,
    numeric_bins,
    psi,
)


def _psi(ref: np.ndarray, cur: np.ndarray, bins: int = 10) -> float:
    """PSI of ``cur`` against a profile of ``ref`` (both without missing values)."""
    reference = NumericReference.build(ref, bins=bins, sample=100, seed=0)
    counts = reference.binning.count(cur)
    return psi(reference.shares(), np.append(counts, 0) / cur.size)


def test_the_issue_examples_drift_now() -> None:
    """All three were PSI 0 ("stable") with collapsed quantile edges."""
    rng = np.random.default_rng(17)
    n = 20_000
    indicator = (rng.random(n) < 0.967).astype(float), (rng.random(n) < 0.343).astype(float)
    assert band(_psi(*indicator)) == "drift"
    label = (rng.random(n) < 0.09).astype(float), (rng.random(n) < 0.52).astype(float)
    assert band(_psi(*label)) == "drift"

    def contacted(never: float) -> np.ndarray:
        days = rng.integers(0, 400, n).astype(float)
        days[rng.random(n) < never] = -1.0  # -1: "never contacted"
        return days

    ref, cur = contacted(0.8), contacted(0.2)
    b = numeric_bins(ref)
    assert -1.0 in b.points.tolist() and "= -1" in b.labels()
    assert band(_psi(ref, cur)) == "drift"


def test_value_bins_for_few_distinct_values() -> None:
    b = numeric_bins([3.0, 1.0, 1.0, 2.0])
    assert b.by_value and b.points.tolist() == [1.0, 2.0, 3.0] and b.size == 4
    assert b.labels() == ["1", "2", "3", "(other)"]
    assert b.count([1.0, 1.5, 3.0, 7.0, np.inf]).tolist() == [1, 0, 1, 3]
    many = numeric_bins(np.arange(MAX_VALUE_BINS + 1.0))
    assert not many.by_value


def test_a_point_mass_at_an_edge_gets_its_own_bin_whichever_end() -> None:
    rng = np.random.default_rng(3)
    body = rng.normal(0, 1, 8_000)
    for mass in (body.min() - 1, 0.0, body.max() + 1):  # at the minimum, inside, at the maximum
        values = np.concatenate([body, np.full(2_000, mass)])
        b = numeric_bins(values)
        assert b.points.tolist() == [mass]
        counts = b.count(values)
        assert counts[b.labels().index(f"= {mass:.6g}")] == 2_000
        moved = values.copy()
        moved[-1_500:] = rng.normal(0, 1, 1_500)  # three quarters of the point mass leave
        assert _psi(values, moved) > 0.1


def test_one_closure_on_the_left_everywhere() -> None:
    b = NumericBins(np.array([1.0, 2.0]))
    assert b.labels() == ["(-inf, 1)", "[1, 2)", "[2, +inf)"]
    values = np.array([0.0, 1.0, 1.5, 2.0, 3.0])
    assert b.count(values).tolist() == b.count_sorted(values).tolist() == [1, 2, 2]
    below = [int((values < c).sum()) for c in b.cuts]  # what SQL counts
    assert b.from_cumulative(below, values.size).tolist() == [1, 2, 2]


def test_old_training_profiles_keep_their_right_closed_bins() -> None:
    b = NumericBins(np.array([1.0, 2.0]), closed="right")
    assert b.count([1.0, 2.0, 2.5]).tolist() == [1, 1, 1]
    assert b.labels() == ["(-inf, 1]", "(1, 2]", "(2, +inf)"]
    with pytest.raises(ValueError, match="left-closed"):
        NumericBins(np.empty(0), np.array([1.0]), closed="right")


def test_continuous_columns_keep_their_quantile_edges() -> None:
    """No point mass: the edges are the quantiles they always were (drift tables unchanged)."""
    x = np.random.default_rng(0).lognormal(8, 0.5, 10_000)
    b = numeric_bins(x)
    assert b.points.size == 0
    assert b.edges.tolist() == np.unique(np.quantile(x, np.arange(1, 10) / 10)).tolist()


samples = st.lists(
    st.one_of(
        st.sampled_from([-1.0, 0.0, 1.0, 2.5, 1e6]),  # point masses and sentinels
        st.floats(-1e6, 1e6, allow_nan=False),
    ),
    min_size=1,
    max_size=300,
)


@settings(max_examples=200, deadline=None)
@given(values=samples, bins=st.integers(2, 12))
def test_psi_of_a_column_against_itself_is_exactly_zero(values: list[float], bins: int) -> None:
    x = np.array(values)
    assert _psi(x, x, bins) == 0.0
    assert _psi(x, x[::-1].copy(), bins) == 0.0  # order does not matter


@settings(max_examples=200, deadline=None)
@given(values=samples, data=st.data())
def test_moving_a_heavy_values_rows_to_another_value_drifts(
    values: list[float], data: st.DataObject
) -> None:
    """Every value holding >= 5 % of the rows has a bin of its own (value bins or a point mass),
    so moving its rows to another reference value is seen: PSI > 0.1."""
    x = np.array(values)
    distinct, counts = np.unique(x, return_counts=True)
    heavy = distinct[counts >= POINT_MASS * x.size]
    assume(heavy.size and distinct.size >= 2)
    a = data.draw(st.sampled_from(heavy.tolist()))
    b = data.draw(st.sampled_from([v for v in distinct.tolist() if v != a]))
    moved = np.where(x == a, b, x)
    assert _psi(x, moved) > 0.1


@settings(max_examples=200, deadline=None)
@given(
    shares=st.lists(st.integers(1, 50), min_size=2, max_size=MAX_VALUE_BINS),
    data=st.data(),
)
def test_few_values_lose_nothing_any_move_gives_the_value_level_psi(
    shares: list[int], data: st.DataObject
) -> None:
    """With <= 10 distinct values the bins are the values: moving any share of the rows
    between two of them gives exactly the PSI of the value shares (so a move of >= 5 % of the
    rows drifts whenever the shares themselves drift)."""
    values = np.repeat(np.arange(len(shares), dtype=float) * 7 - 1, shares)
    i, j = data.draw(st.permutations(range(len(shares))))[:2]
    k = data.draw(st.integers(1, shares[i]))
    moved = values.copy()
    src = np.flatnonzero(values == np.unique(values)[i])[:k]
    moved[src] = np.unique(values)[j]
    before = np.asarray(shares, dtype=float) / values.size
    after = before.copy()
    after[i] -= k / values.size
    after[j] += k / values.size
    expected = psi(np.append(before, [0.0, 0.0]), np.append(after, [0.0, 0.0]))
    assert _psi(values, moved) == pytest.approx(expected, rel=1e-12, abs=1e-15)
