"""Seeded experiments as sufficient statistics, and their gbstats twins (the oracle)."""

from __future__ import annotations

from typing import Any

import numpy as np
from gbstats.models.statistics import (
    ProportionStatistic,
    RatioStatistic,
    RegressionAdjustedStatistic,
    SampleMeanStatistic,
)

from cairn.experiments.stats import Adjusted, Proportion, Ratio, SampleMean, Statistic

KINDS = ("proportion", "mean", "ratio", "cuped", "cuped_proportion")
SEEDS = (0, 1, 2, 3, 4)


def _mean(x: np.ndarray) -> SampleMean:
    return SampleMean(len(x), float(x.sum()), float((x * x).sum()))


def _arm(rng: np.random.Generator, kind: str, n: int, lift: float) -> Statistic:
    if kind == "proportion":
        return Proportion(n, float(rng.binomial(1, 0.1 * (1 + lift), n).sum()))
    if kind == "mean":
        return _mean(rng.lognormal(1.0, 0.8, n) * (1 + lift))
    if kind == "ratio":
        orders = rng.poisson(2.0, n) + 1.0
        revenue = orders * rng.gamma(2.0, 15.0 * (1 + lift), n)
        return Ratio(
            n, revenue.sum(), (revenue**2).sum(), orders.sum(), (orders**2).sum(),
            (revenue * orders).sum(),
        )  # fmt: skip
    pre = rng.gamma(2.0, 5.0, n)
    if kind == "cuped":
        post = 0.8 * pre + rng.normal(3.0 * (1 + lift), 4.0, n)
        return Adjusted(_mean(post), _mean(pre), float((post * pre).sum()))
    pre_b = (pre > 10).astype(float)
    post_b = rng.binomial(1, np.clip(0.15 + 0.3 * pre_b + 0.05 * lift, 0, 1)).astype(float)
    return Adjusted(
        Proportion(n, post_b.sum()), Proportion(n, pre_b.sum()), float((post_b * pre_b).sum())
    )


def experiment(seed: int, kind: str, lift: float = 0.05) -> tuple[Statistic, Statistic]:
    """A control and a treatment of unequal sizes drawn with ``seed``."""
    rng = np.random.default_rng(seed)
    n_a, n_b = int(rng.integers(800, 3000)), int(rng.integers(800, 3000))
    return _arm(rng, kind, n_a, 0.0), _arm(rng, kind, n_b, lift)


def to_gbstats(stat: Statistic) -> Any:
    """The same sufficient statistics as a gbstats statistic."""
    if isinstance(stat, Proportion):
        return ProportionStatistic(n=stat.n, sum=stat.sum)
    if isinstance(stat, SampleMean):
        return SampleMeanStatistic(n=stat.n, sum=stat.sum, sum_squares=stat.sum_squares)
    if isinstance(stat, Ratio):
        return RatioStatistic(
            n=stat.n,
            m_statistic=SampleMeanStatistic(
                n=stat.n, sum=stat.m_sum, sum_squares=stat.m_sum_squares
            ),
            d_statistic=SampleMeanStatistic(
                n=stat.n, sum=stat.d_sum, sum_squares=stat.d_sum_squares
            ),
            m_d_sum_of_products=stat.m_d_sum_of_products,
        )
    return RegressionAdjustedStatistic(
        n=stat.n,
        post_statistic=to_gbstats(stat.post),
        pre_statistic=to_gbstats(stat.pre),
        post_pre_sum_of_products=stat.post_pre_sum_of_products,
        theta=0,
    )
