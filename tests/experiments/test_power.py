"""Power analysis against statsmodels' NormalIndPower, and against the engine by simulation.

Cairn's formula is the normal approximation with per-arm variances; it maps exactly onto
``NormalIndPower`` (equal-variance z-test) by standardising with the control term ``a`` and
folding the treatment term ``b`` into the allocation ratio: ``es = δ / sqrt(a)``,
``ratio = (n_t / n_c) · (a / b)``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.power import NormalIndPower, TTestIndPower

from cairn.core.errors import ConfigError
from cairn.experiments.power import (
    PowerDesign,
    comparison_power,
    minimum_detectable_effect,
    sample_size,
    sequential_minimum_detectable_effect,
    sequential_sample_size,
)
from cairn.experiments.power.normal import variance_terms
from cairn.experiments.stats import Proportion, frequentist, sequential

DESIGNS = [
    (PowerDesign(baseline=0.05, weights=(50, 50)), 0.10),
    (PowerDesign(baseline=0.05, weights=(70, 30), alpha=0.01, power=0.9), 0.15),
    (PowerDesign(baseline=0.2, weights=(1, 1), relative=False), 0.01),
    (PowerDesign(baseline=0.6, weights=(40, 60), relative=False, power=0.95), 0.03),
    (PowerDesign(baseline=12.0, weights=(50, 50), metric="mean", std=8.0), 0.05),
    (PowerDesign(baseline=12.0, weights=(25, 75), metric="mean", std=8.0, relative=False), 0.4),
]


def _statsmodels_control_units(design: PowerDesign, mde: float) -> float:
    a, b = variance_terms(design, mde)
    s_c, s_t = design.shares
    return float(
        NormalIndPower().solve_power(
            effect_size=mde / math.sqrt(a),
            alpha=design.alpha,
            power=design.power,
            ratio=(s_t / s_c) * (a / b),
        )
    )


@pytest.mark.parametrize(("design", "mde"), DESIGNS)
def test_sample_size_agrees_with_statsmodels(design: PowerDesign, mde: float) -> None:
    plan = sample_size(design, mde)
    want = _statsmodels_control_units(design, mde)
    assert abs(plan.arms[0].units - want) <= 1.0, (plan.arms[0].units, want)
    assert plan.arms[1].power is not None and plan.arms[1].power >= design.power


@pytest.mark.parametrize(("design", "mde"), DESIGNS)
def test_mde_agrees_with_statsmodels(design: PowerDesign, mde: float) -> None:
    units = 40_000 if design.metric == "proportion" else 4_000
    plan = minimum_detectable_effect(design, units=units)
    a, b = variance_terms(design, plan.mde)
    s_c, s_t = design.shares
    power = NormalIndPower().power(
        effect_size=plan.mde / math.sqrt(a),
        nobs1=s_c * units,
        alpha=design.alpha,
        ratio=(s_t / s_c) * (a / b),
    )
    assert power == pytest.approx(design.power, rel=1e-6)
    if design.metric == "mean" and not design.relative:  # variance free of the effect
        es = NormalIndPower().solve_power(
            nobs1=s_c * units, alpha=design.alpha, power=design.power, ratio=s_t / s_c
        )
        assert plan.mde == pytest.approx(es * (design.std or 0.0), rel=1e-6)


def test_close_to_statsmodels_t_test_for_means() -> None:
    design = PowerDesign(baseline=0.0, metric="mean", std=1.0, relative=False)
    plan = sample_size(design, 0.2)
    want = TTestIndPower().solve_power(effect_size=0.2, alpha=0.05, power=0.8)
    assert plan.arms[0].units == pytest.approx(want, rel=0.005)  # z vs t: ~1 unit at n ≈ 400


def test_issue_example_three_arms() -> None:
    design = PowerDesign(baseline=0.05, weights=(50, 25, 25), daily_units=20_000)
    plan = sample_size(design, 0.10)
    assert [a.name for a in plan.arms] == ["control", "treatment 1", "treatment 2"]
    assert [a.share for a in plan.arms] == [0.5, 0.25, 0.25]
    assert plan.arms[0].units == pytest.approx(2 * plan.arms[1].units, abs=1)
    assert plan.whole_days == math.ceil(plan.total_units / 20_000)
    # control holds half the traffic: each comparison is as in a 2:1 two-arm test
    two_arm = sample_size(PowerDesign(baseline=0.05, weights=(2, 1)), 0.10)
    assert plan.arms[1].units == two_arm.arms[1].units


def test_correction_plans_each_comparison_at_alpha_over_m() -> None:
    corrected = PowerDesign(baseline=0.05, weights=(50, 25, 25), correction="holm")
    assert corrected.level == 0.025
    manual = PowerDesign(baseline=0.05, weights=(50, 25, 25), alpha=0.025)
    assert sample_size(corrected, 0.1).arms == sample_size(manual, 0.1).arms


def test_mde_round_trips_through_sample_size() -> None:
    design = PowerDesign(baseline=0.05, weights=(50, 25, 25), daily_units=20_000)
    plan = minimum_detectable_effect(design, days=7)
    assert plan.total_units == 140_000 and plan.days == pytest.approx(7.0)
    back = sample_size(design, plan.mde)
    assert back.total_units == pytest.approx(140_000, abs=3)


def test_sequential_needs_more_units_and_detects_less_in_the_same_time() -> None:
    design = PowerDesign(baseline=0.05, weights=(50, 50), daily_units=20_000)
    fixed, always = sample_size(design, 0.1), sequential_sample_size(design, 0.1)
    assert always.sequential and always.n_star == fixed.total_units
    assert 1.5 * fixed.total_units < always.total_units < 2.5 * fixed.total_units
    assert sequential_minimum_detectable_effect(design, days=7).mde > (
        minimum_detectable_effect(design, days=7).mde
    )
    tuned = sequential_sample_size(design, 0.1, n_star=always.total_units)
    assert tuned.n_star == always.total_units


@pytest.mark.parametrize("kind", ["fixed", "sequential"])
def test_plans_reach_their_power_with_the_engine(kind: str) -> None:
    """Simulated experiments of the planned size, analysed by the engine: ~80 % detect."""
    design = PowerDesign(baseline=0.05, weights=(50, 50))
    plan = sample_size(design, 0.1) if kind == "fixed" else sequential_sample_size(design, 0.1)
    n_c, n_t = plan.arms[0].units, plan.arms[1].units
    rng = np.random.default_rng(11)
    runs, hits = 600, 0
    for c, t in zip(rng.binomial(n_c, 0.05, runs), rng.binomial(n_t, 0.055, runs), strict=True):
        control, treatment = Proportion(n_c, c), Proportion(n_t, t)
        if kind == "fixed":
            res = frequentist(control, treatment)
        else:
            res = sequential(control, treatment, n_star=plan.n_star or 0.0)
        hits += res.ci[0] > 0
    assert hits / runs == pytest.approx(0.8, abs=0.05)


def test_unreachable_mde_is_infinite() -> None:
    design = PowerDesign(baseline=0.5, weights=(50, 50), relative=False)
    assert minimum_detectable_effect(design, units=6).mde == math.inf


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"baseline": 1.5}, "baseline"),
        ({"baseline": 0.05, "alpha": 0}, "alpha"),
        ({"baseline": 0.05, "power": 1.2}, "power"),
        ({"baseline": 0.05, "power": 0.01}, "power must exceed alpha"),
        ({"baseline": 0.05, "weights": (1,)}, "weights"),
        ({"baseline": 0.05, "weights": (1, 0)}, "weights"),
        ({"baseline": 0.05, "metric": "median"}, "metric"),
        ({"baseline": 3.0, "metric": "mean"}, "std"),
        ({"baseline": 0.05, "std": 1.0}, "std"),
        ({"baseline": 0.05, "correction": "sidak"}, "correction"),
        ({"baseline": 0.05, "daily_units": -5}, "daily_units"),
    ],
)
def test_bad_designs_raise(kwargs: dict[str, object], name: str) -> None:
    with pytest.raises(ConfigError, match=name):
        PowerDesign(**kwargs)  # type: ignore[arg-type]


def test_bad_arguments_raise() -> None:
    design = PowerDesign(baseline=0.5)
    with pytest.raises(ConfigError, match="mde"):
        sample_size(design, 0.0)
    with pytest.raises(ConfigError, match="below 1"):
        sample_size(design, 1.0)
    with pytest.raises(ConfigError, match="daily_units"):
        minimum_detectable_effect(design, days=3)
    with pytest.raises(ConfigError, match="exactly one"):
        minimum_detectable_effect(design)
    with pytest.raises(ConfigError, match="n_star"):
        sequential_sample_size(design, 0.1, n_star=-1)


@settings(max_examples=30, deadline=None)
@given(st.floats(0.01, 0.5), st.floats(0.02, 0.5), st.floats(1.0, 4.0))
def test_larger_effects_need_fewer_units(baseline: float, mde: float, ratio: float) -> None:
    design = PowerDesign(baseline=baseline, weights=(1.0, ratio))
    if baseline * (1 + 2 * mde) >= 1:
        return
    small, large = sample_size(design, mde), sample_size(design, 2 * mde)
    assert large.total_units <= small.total_units
    power = comparison_power(design, mde, small.arms[0].units, small.arms[1].units)
    assert power >= design.power - 1e-9
