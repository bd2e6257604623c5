"""Sample-ratio mismatch against gbstats check_srm and by hand."""

from __future__ import annotations

import numpy as np
import pytest
from gbstats.utils import check_srm
from hypothesis import given
from hypothesis import strategies as st

from cairn.core.errors import ConfigError
from cairn.experiments.stats import srm


@pytest.mark.parametrize("seed", range(8))
def test_agrees_with_gbstats(seed: int) -> None:
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 6))
    weights = list(rng.dirichlet(np.ones(k)))
    counts = [int(c) for c in rng.multinomial(int(rng.integers(100, 100_000)), weights)]
    counts[0] += int(rng.integers(0, 300))
    res = srm(counts, weights)
    assert res.p_value == pytest.approx(check_srm(counts, weights), rel=1e-9)
    assert res.mismatch == (res.p_value < 0.001)


def test_hand_checked_two_arms() -> None:
    # 50/50 split of 10 200 units: expected 5 100 each; chi2 = 2 * 100**2 / 5100 = 3.9216
    res = srm([5_000, 5_200], [50, 50])
    assert res.expected == (5_100.0, 5_100.0)
    assert res.chi2 == pytest.approx(3.92156862745098)
    assert res.p_value == pytest.approx(0.04767, abs=1e-5) and not res.mismatch


def test_hand_checked_three_arms_mismatch() -> None:
    # 50/25/25 of 4 000: expected 2000/1000/1000; chi2 = 100²/2000 + 150²/1000 + 50²/1000 = 30
    res = srm([1_900, 1_150, 950], [0.5, 0.25, 0.25])
    assert res.chi2 == pytest.approx(30.0)
    assert res.p_value == pytest.approx(np.exp(-15.0), rel=1e-9)  # chi2 sf with 2 dof
    assert res.mismatch


def test_zero_weight_arm_is_skipped_like_gbstats() -> None:
    res = srm([500, 500, 0], [0.5, 0.5, 0.0])
    assert res.p_value == pytest.approx(check_srm([500, 500, 0], [0.5, 0.5, 0.0]))
    assert srm([0, 0], [1, 1]).p_value == 1.0


@pytest.mark.parametrize(
    ("counts", "weights", "reason"),
    [
        ([10, 20, 30], [0.5, 0.5], "weights do not match the arms"),
        ([10], [1.0], "need at least two arms"),
        ([10, -1], [0.5, 0.5], "counts must be non-negative"),
        ([10, 10], [0.0, 0.0], "weights must be non-negative"),
    ],
)
def test_bad_input_gives_an_error_result(
    counts: list[int], weights: list[float], reason: str
) -> None:
    res = srm(counts, weights)
    assert res.error is not None and res.error.startswith(reason)
    assert res.p_value == 1.0 and not res.mismatch


def test_bad_threshold_raises() -> None:
    with pytest.raises(ConfigError, match="threshold"):
        srm([1, 2], [1, 1], threshold=0)


@given(st.lists(st.integers(0, 10_000), min_size=2, max_size=6))
def test_p_value_is_a_probability(counts: list[int]) -> None:
    res = srm(counts, [1.0] * len(counts))
    assert 0.0 <= res.p_value <= 1.0 and res.chi2 >= 0.0
