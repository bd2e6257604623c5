"""Welch's t on sufficient statistics agrees with gbstats 0.8.0 to 1e-6 relative."""

from __future__ import annotations

import math

import pytest
from gbstats.frequentist.tests import (
    FrequentistConfig,
    OneSidedTreatmentGreaterTTest,
    OneSidedTreatmentLesserTTest,
    TwoSidedTTest,
)
from hypothesis import given
from hypothesis import strategies as st

from cairn.core.errors import ConfigError
from cairn.experiments.stats import Proportion, Ratio, SampleMean, frequentist

from ._draws import KINDS, SEEDS, experiment, to_gbstats

REL = 1e-6
GB_TESTS = {
    "two-sided": TwoSidedTTest,
    "greater": OneSidedTreatmentGreaterTTest,
    "less": OneSidedTreatmentLesserTTest,
}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("relative", [True, False])
@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_agrees_with_gbstats(seed: int, kind: str, relative: bool, alternative: str) -> None:
    control, treatment = experiment(seed, kind)
    config = FrequentistConfig(alpha=0.05, difference_type="relative" if relative else "absolute")
    gb = GB_TESTS[alternative](to_gbstats(control), to_gbstats(treatment), config)
    want = gb.compute_result()
    got = frequentist(control, treatment, relative=relative, alternative=alternative)  # type: ignore[arg-type]
    assert got.error is None and want.error_message is None
    assert got.expected == pytest.approx(want.expected, rel=REL)
    assert got.p_value == pytest.approx(want.p_value, rel=REL, abs=1e-12)
    assert got.se == pytest.approx(want.uplift.stddev, rel=REL)
    if alternative == "less":
        # gbstats 0.8.0 returns (-inf, estimate - width) here; the upper bound of a
        # "treatment is lower" interval is estimate + width (Cairn).
        width = want.expected - want.ci[1]
        assert got.ci[0] == -math.inf
        assert got.ci[1] == pytest.approx(want.expected + width, rel=REL)
    else:
        assert got.ci[0] == pytest.approx(want.ci[0], rel=REL)
        assert got.ci[1] == pytest.approx(want.ci[1], rel=REL)


@pytest.mark.parametrize(
    ("control", "treatment", "reason"),
    [
        (Proportion(0, 0), Proportion(10, 3), "empty arm: the control"),
        (Proportion(10, 3), Proportion(0, 0), "empty arm: the treatment"),
        (SampleMean(1, 2.0, 4.0), SampleMean(10, 3.0, 9.0), "too few units: the control"),
        (Proportion(100, 0), Proportion(100, 5), "zero baseline"),
        (SampleMean(5, 10.0, 20.0), SampleMean(5, 11.0, 30.0), "zero variance: the control"),
        (SampleMean(5, math.nan, 1.0), SampleMean(5, 1.0, 1.0), "invalid statistics"),
        (Ratio(5, 1, 1, 0, 0, 0), Ratio(5, 1, 1, 2, 2, 1), "zero denominator: the control"),
    ],
)
def test_bad_data_gives_an_error_result(control: object, treatment: object, reason: str) -> None:
    res = frequentist(control, treatment)  # type: ignore[arg-type]
    assert res.error is not None and res.error.startswith(reason), res.error
    assert (res.expected, res.ci, res.p_value, res.se) == (0.0, (0.0, 0.0), None, 0.0)
    assert not res.significant()


def test_absolute_lift_with_zero_control_mean_is_fine() -> None:
    res = frequentist(Proportion(100, 0), Proportion(100, 5), relative=False)
    assert res.error == "zero variance: the control arm's metric has no variance"
    res = frequentist(SampleMean(3, 0.0, 2.0), SampleMean(3, 3.0, 5.0), relative=False)
    assert res.error is None and res.expected == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"alpha": 0.0}, "alpha"),
        ({"alpha": 1.5}, "alpha"),
        ({"alternative": "both"}, "alternative"),
    ],
)
def test_bad_arguments_raise_config_error(kwargs: dict[str, object], name: str) -> None:
    with pytest.raises(ConfigError, match=name):
        frequentist(Proportion(10, 2), Proportion(10, 3), **kwargs)  # type: ignore[arg-type]


def test_mixing_kinds_raises_config_error() -> None:
    with pytest.raises(ConfigError, match="same kind of statistic"):
        frequentist(Proportion(10, 2), SampleMean(10, 3.0, 5.0))


arm = st.builds(
    lambda n, p: Proportion(n, round(n * p)),
    st.integers(10, 100_000),
    st.floats(0.01, 0.99),
)


@given(arm, arm, st.booleans(), st.sampled_from(["two-sided", "greater", "less"]))
def test_interval_contains_the_estimate(a: Proportion, b: Proportion, rel: bool, alt: str) -> None:
    res = frequentist(a, b, relative=rel, alternative=alt)  # type: ignore[arg-type]
    if res.error is None:
        assert res.ci[0] <= res.expected <= res.ci[1]
        assert res.p_value is not None and 0.0 <= res.p_value <= 1.0


@given(arm, arm)
def test_swapping_arms_negates_the_absolute_lift(a: Proportion, b: Proportion) -> None:
    ab, ba = frequentist(a, b, relative=False), frequentist(b, a, relative=False)
    assert (ab.error is None) == (ba.error is None)
    if ab.error is None:
        assert ab.expected == pytest.approx(-ba.expected, abs=1e-12)
        assert ab.p_value == pytest.approx(ba.p_value, rel=1e-9, abs=1e-15)
        assert ab.ci[0] == pytest.approx(-ba.ci[1], abs=1e-12)


@given(arm, arm)
def test_one_sided_p_values_add_to_one(a: Proportion, b: Proportion) -> None:
    greater = frequentist(a, b, alternative="greater")
    less = frequentist(a, b, alternative="less")
    if greater.p_value is not None and less.p_value is not None:
        assert greater.p_value + less.p_value == pytest.approx(1.0)
