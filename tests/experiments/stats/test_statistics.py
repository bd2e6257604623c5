"""Sufficient statistics: gbstats means and variances, coercion of SQL types, validation."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from cairn.core.errors import DataError
from cairn.experiments.stats import Adjusted, Proportion, Ratio, SampleMean

from ._draws import KINDS, experiment, to_gbstats


@pytest.mark.parametrize("kind", KINDS)
def test_mean_and_variance_match_gbstats(kind: str) -> None:
    for stat in experiment(11, kind):
        twin = to_gbstats(stat)
        if isinstance(stat, Adjusted):
            stat = Adjusted(stat.post, stat.pre, stat.post_pre_sum_of_products, theta=0.7)
            twin.theta = 0.7
        assert stat.mean == pytest.approx(twin.mean, rel=1e-12)
        assert stat.unadjusted_mean == pytest.approx(twin.unadjusted_mean, rel=1e-12)
        assert stat.variance == pytest.approx(twin.variance, rel=1e-9)


def test_sample_mean_matches_numpy() -> None:
    x = np.random.default_rng(0).normal(3, 2, 1_000)
    s = SampleMean(x.size, x.sum(), (x * x).sum())
    assert s.mean == pytest.approx(x.mean()) and s.variance == pytest.approx(x.var(ddof=1))


def test_sql_types_are_coerced() -> None:
    s = SampleMean(np.int64(3), Decimal("6"), Decimal("14"))  # type: ignore[arg-type]
    assert type(s.n) is int and type(s.sum) is float and s.mean == 2.0
    assert Proportion(4.0, 1).n == 4  # type: ignore[arg-type]


def test_empty_and_single_unit_statistics_are_zero() -> None:
    assert SampleMean(0, 0, 0).mean == 0.0 and SampleMean(1, 3, 9).variance == 0.0
    assert Proportion(0, 0).mean == 0.0
    assert Ratio(3, 1, 1, 0, 0, 0).mean == 0.0 and Ratio(3, 1, 1, 0, 0, 0).variance == 0.0


@pytest.mark.parametrize("n", [-1, 2.5, "x", True])
def test_bad_counts_are_rejected(n: object) -> None:
    with pytest.raises(DataError, match=r"SampleMean.n must be a non-negative integer"):
        SampleMean(n, 1.0, 1.0)  # type: ignore[arg-type]


def test_bad_sums_are_rejected() -> None:
    with pytest.raises(DataError, match=r"Proportion.sum must be a number"):
        Proportion(3, "many")  # type: ignore[arg-type]
    with pytest.raises(DataError, match=r"Adjusted.post must be"):
        Adjusted(Ratio(1, 1, 1, 1, 1, 1), SampleMean(1, 1, 1), 1.0)  # type: ignore[arg-type]
