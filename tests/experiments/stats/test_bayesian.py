"""Gaussian effect posterior agrees with gbstats 0.8.0 EffectBayesianABTest."""

from __future__ import annotations

import pytest
from gbstats.bayesian.tests import EffectBayesianABTest, EffectBayesianConfig, GaussianPrior
from hypothesis import given
from hypothesis import strategies as st

from cairn.core.errors import ConfigError
from cairn.experiments.stats import Proportion, SampleMean, bayesian

from ._draws import KINDS, SEEDS, experiment, to_gbstats

REL = 1e-6


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("relative", [True, False])
@pytest.mark.parametrize(
    ("proper", "prior_mean", "prior_variance"), [(False, 0, 1), (True, 0.02, 0.003)]
)
def test_agrees_with_gbstats(
    seed: int, kind: str, relative: bool, proper: bool, prior_mean: float, prior_variance: float
) -> None:
    control, treatment = experiment(seed, kind)
    if proper and not relative:  # a prior on the absolute scale, of a sensible size
        prior_mean, prior_variance = (
            prior_mean * control.unadjusted_mean,
            prior_variance * control.unadjusted_mean**2,
        )
    config = EffectBayesianConfig(
        difference_type="relative" if relative else "absolute",
        prior_type="relative" if relative else "absolute",
        prior_effect=GaussianPrior(mean=prior_mean, variance=prior_variance, proper=proper),
    )
    want = EffectBayesianABTest(to_gbstats(control), to_gbstats(treatment), config).compute_result()
    got = bayesian(
        control,
        treatment,
        relative=relative,
        prior_mean=prior_mean,
        prior_variance=prior_variance,
        proper=proper,
    )
    assert got.error is None and want.error_message is None
    assert got.expected == pytest.approx(want.expected, rel=REL)
    assert got.ci[0] == pytest.approx(want.ci[0], rel=REL)
    assert got.ci[1] == pytest.approx(want.ci[1], rel=REL)
    assert got.chance_to_win == pytest.approx(want.chance_to_win, rel=REL)
    assert got.risk[0] == pytest.approx(want.risk[0], rel=REL, abs=1e-12)
    assert got.risk[1] == pytest.approx(want.risk[1], rel=REL, abs=1e-12)
    assert got.se == pytest.approx(want.uplift.stddev, rel=REL)


def test_a_proper_prior_shrinks_towards_its_mean() -> None:
    control, treatment = Proportion(2_000, 100), Proportion(2_000, 130)
    flat = bayesian(control, treatment)
    shrunk = bayesian(control, treatment, proper=True, prior_mean=0.0, prior_variance=0.01)
    assert 0 < shrunk.expected < flat.expected
    assert shrunk.se < flat.se


def test_bad_data_gives_the_gbstats_default() -> None:
    res = bayesian(Proportion(0, 0), Proportion(10, 2))
    assert res.error is not None and res.error.startswith("empty arm")
    assert (res.expected, res.ci, res.chance_to_win, res.risk) == (0.0, (0.0, 0.0), 0.5, (0.0, 0.0))
    res = bayesian(SampleMean(5, 5.0, 5.0), SampleMean(5, 6.0, 9.0))
    assert res.error is not None and res.error.startswith("zero variance")


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"alpha": 1.0}, "alpha"),
        ({"prior_variance": 0.0}, "prior_variance"),
        ({"prior_mean": float("nan")}, "prior_mean"),
    ],
)
def test_bad_arguments_raise(kwargs: dict[str, float], name: str) -> None:
    with pytest.raises(ConfigError, match=name):
        bayesian(Proportion(100, 10), Proportion(100, 12), **kwargs)  # type: ignore[arg-type]


arm = st.builds(
    lambda n, p: Proportion(n, round(n * p)), st.integers(20, 50_000), st.floats(0.02, 0.98)
)


@given(arm, arm)
def test_posterior_invariants(a: Proportion, b: Proportion) -> None:
    res = bayesian(a, b, relative=False)
    if res.error is None:
        assert res.ci[0] <= res.expected <= res.ci[1]
        assert 0.0 <= res.chance_to_win <= 1.0
        # E[max(X,0)] - E[max(-X,0)] = E[X]
        assert res.risk[0] - res.risk[1] == pytest.approx(res.expected, abs=1e-12)
        swapped = bayesian(b, a, relative=False)
        assert swapped.chance_to_win == pytest.approx(1 - res.chance_to_win, abs=1e-12)
