"""Confidence sequences: gbstats agreement (two-sided) and always-valid coverage (one-sided)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from gbstats.frequentist.tests import SequentialConfig, SequentialTwoSidedTTest
from scipy.integrate import quad
from scipy.stats import norm

from cairn.core.errors import ConfigError
from cairn.experiments.stats import Proportion, SampleMean, frequentist, sequential
from cairn.experiments.stats.sequential import (
    one_sided_multiplier,
    rho,
    two_sided_multiplier,
)

from ._draws import KINDS, SEEDS, experiment, to_gbstats

REL = 1e-6


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("relative", [True, False])
@pytest.mark.parametrize("n_star", [1_000.0, 10_000.0])
def test_two_sided_agrees_with_gbstats(seed: int, kind: str, relative: bool, n_star: float) -> None:
    control, treatment = experiment(seed, kind, lift=0.08)
    config = SequentialConfig(
        alpha=0.05,
        difference_type="relative" if relative else "absolute",
        sequential_tuning_parameter=n_star,
    )
    want = SequentialTwoSidedTTest(to_gbstats(control), to_gbstats(treatment), config)
    want_res = want.compute_result()
    got = sequential(control, treatment, n_star=n_star, relative=relative)
    assert got.error is None
    assert got.expected == pytest.approx(want_res.expected, rel=REL)
    assert got.ci[0] == pytest.approx(want_res.ci[0], rel=REL)
    assert got.ci[1] == pytest.approx(want_res.ci[1], rel=REL)
    assert got.p_value == pytest.approx(want_res.p_value, rel=REL, abs=1e-12)


def test_sequence_is_wider_than_the_fixed_horizon_interval() -> None:
    control, treatment = experiment(0, "mean")
    fixed = frequentist(control, treatment)
    always = sequential(control, treatment)
    assert always.ci[0] < fixed.ci[0] and always.ci[1] > fixed.ci[1]
    assert always.p_value is not None and fixed.p_value is not None
    assert always.p_value >= fixed.p_value


@pytest.mark.parametrize("n", [100.0, 1_000.0, 10_000.0, 1e6])
def test_one_sided_is_close_to_two_sided_at_twice_alpha(n: float) -> None:
    one = one_sided_multiplier(n, 0.05, 5_000)
    two = two_sided_multiplier(n, 0.10, 5_000)
    assert two < one < 1.02 * two


@pytest.mark.parametrize("alternative", ["greater", "less"])
def test_one_sided_interval_and_p_value_agree(alternative: str) -> None:
    for lift in np.linspace(0.0, 0.3, 13):
        control = Proportion(5_000, 250)
        sign = 1 if alternative == "greater" else -1
        treatment = Proportion(5_000, round(250 * (1 + sign * lift)))
        res = sequential(control, treatment, alternative=alternative, n_star=10_000)  # type: ignore[arg-type]
        assert res.p_value is not None
        excludes_zero = res.ci[0] > 0 if alternative == "greater" else res.ci[1] < 0
        assert excludes_zero == (res.p_value < 0.05)
        assert math.isinf(res.ci[1] if alternative == "greater" else res.ci[0])


def test_one_sided_type_one_error_stays_below_alpha_under_continuous_peeking() -> None:
    """Simulated A/A tests checked after every batch: the gate fires in at most α of them."""
    rng = np.random.default_rng(20240611)
    alpha, sims, peeks, batch = 0.05, 300, 25, 40
    fired = {"greater": 0, "less": 0}
    naive = 0  # a fixed-horizon one-sided t-test checked at every peek: not always valid
    for _ in range(sims):
        a = rng.normal(10.0, 3.0, (peeks, batch))
        b = rng.normal(10.0, 3.0, (peeks, batch))
        sa, sb = np.cumsum(a.sum(1)), np.cumsum(b.sum(1))
        qa, qb = np.cumsum((a * a).sum(1)), np.cumsum((b * b).sum(1))
        naive += any(
            frequentist(
                SampleMean((k + 1) * batch, sa[k], qa[k]),
                SampleMean((k + 1) * batch, sb[k], qb[k]),
                relative=False,
                alternative="greater",
            ).significant(alpha)
            for k in range(peeks)
        )
        for alternative in fired:
            for k in range(peeks):
                n = (k + 1) * batch
                res = sequential(
                    SampleMean(n, sa[k], qa[k]),
                    SampleMean(n, sb[k], qb[k]),
                    n_star=1_000,
                    relative=False,
                    alpha=alpha,
                    alternative=alternative,  # type: ignore[arg-type]
                )
                harm = res.ci[0] > 0 if alternative == "greater" else res.ci[1] < 0
                if harm:
                    fired[alternative] += 1
                    break
    for alternative, count in fired.items():
        assert count / sims <= alpha, (alternative, count)
    assert naive / sims > 2 * alpha  # the simulation is sharp enough to catch invalid peeking


def test_one_sided_detects_a_real_increase() -> None:
    rng = np.random.default_rng(7)
    a, b = rng.normal(10.0, 3.0, 4_000), rng.normal(10.6, 3.0, 4_000)
    res = sequential(
        SampleMean(4_000, a.sum(), (a * a).sum()),
        SampleMean(4_000, b.sum(), (b * b).sum()),
        relative=False,
        alternative="greater",
        n_star=1_000,
    )
    assert res.ci[0] > 0 and res.p_value is not None and res.p_value < 0.001


def test_bad_data_and_arguments() -> None:
    assert sequential(Proportion(0, 0), Proportion(5, 1)).error is not None
    with pytest.raises(ConfigError, match="n_star"):
        sequential(Proportion(10, 2), Proportion(10, 3), n_star=0)
    with pytest.raises(ConfigError, match="alpha"):
        sequential(Proportion(10, 2), Proportion(10, 3), alpha=0.6, alternative="greater")


@pytest.mark.parametrize("seed", SEEDS)
def test_one_sided_p_value_is_the_half_normal_mixture_by_quadrature(seed: int) -> None:
    control, treatment = experiment(seed, "mean", lift=0.04)
    res = sequential(control, treatment, n_star=2_000, alternative="greater", relative=False)
    n = control.n + treatment.n
    s = math.sqrt(n) * res.expected / res.se
    r = rho(0.10, 2_000)

    def integrand(lam: float) -> float:
        return float(2 * math.exp(lam * s - lam * lam * n / 2) * norm.pdf(lam, scale=r))

    e_value = quad(integrand, 0, 20 * r, points=[max(s / n, 0.0)], limit=200)[0]
    assert res.p_value == pytest.approx(min(1.0, 1 / e_value), rel=1e-6)
