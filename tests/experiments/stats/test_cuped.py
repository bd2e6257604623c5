"""CUPED: pooled θ as gbstats compute_theta, lower variance, fallback when θ is 0."""

from __future__ import annotations

import numpy as np
import pytest
from gbstats.models.statistics import compute_theta

from cairn.core.errors import ConfigError, DataError
from cairn.experiments.stats import (
    Adjusted,
    Proportion,
    SampleMean,
    cuped_theta,
    frequentist,
    sequential,
)

from ._draws import SEEDS, experiment, to_gbstats


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("kind", ["cuped", "cuped_proportion"])
def test_theta_agrees_with_gbstats(seed: int, kind: str) -> None:
    control, treatment = experiment(seed, kind)
    assert isinstance(control, Adjusted) and isinstance(treatment, Adjusted)
    want = compute_theta(to_gbstats(control), to_gbstats(treatment))
    assert cuped_theta(control, treatment) == pytest.approx(want, rel=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_adjustment_narrows_the_interval(seed: int) -> None:
    control, treatment = experiment(seed, "cuped")
    assert isinstance(control, Adjusted) and isinstance(treatment, Adjusted)
    adjusted = frequentist(control, treatment)
    plain = frequentist(control.post, treatment.post)
    assert adjusted.se < 0.8 * plain.se
    assert adjusted.ci[1] - adjusted.ci[0] < plain.ci[1] - plain.ci[0]
    assert sequential(control, treatment).se == pytest.approx(adjusted.se)


def test_an_explicit_theta_is_used_as_given() -> None:
    control, treatment = experiment(0, "cuped")
    assert isinstance(control, Adjusted) and isinstance(treatment, Adjusted)
    from dataclasses import replace

    zero = frequentist(replace(control, theta=0.0), replace(treatment, theta=0.0))
    plain = frequentist(control.post, treatment.post)
    assert zero.expected == pytest.approx(plain.expected) and zero.se == pytest.approx(plain.se)


def test_constant_covariate_falls_back_to_the_unadjusted_metric() -> None:
    rng = np.random.default_rng(3)
    arms = []
    for n in (500, 600):
        post = rng.normal(5, 2, n)
        arms.append(
            Adjusted(SampleMean(n, post.sum(), (post**2).sum()), Proportion(n, n), post.sum())
        )
    assert cuped_theta(*arms) == 0.0
    res = frequentist(arms[0], arms[1])
    assert res == frequentist(arms[0].post, arms[1].post)


def test_mismatched_inputs() -> None:
    with pytest.raises(DataError, match=r"same units"):
        Adjusted(SampleMean(3, 1.0, 1.0), SampleMean(4, 1.0, 1.0), 1.0)
    a = Adjusted(SampleMean(3, 1.0, 1.0), SampleMean(3, 1.0, 1.0), 1.0)
    b = Adjusted(SampleMean(3, 1.0, 1.0), Proportion(3, 1.0), 1.0)
    with pytest.raises(ConfigError, match=r"Adjusted.pre"):
        cuped_theta(a, b)
    with pytest.raises(ConfigError, match="at least one"):
        cuped_theta()
