"""compute_drift end to end: decisions, robustness, bounded high cardinality, no false alarms."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import scipy.stats

from cairn.core.errors import ConfigError, DataError
from cairn.experiments.stats import adjust_p_values
from cairn.monitoring import (
    DriftReport,
    DriftThresholds,
    ReferenceProfile,
    compute_drift,
)

N = 100_000


def _data(rng: np.random.Generator, n: int, *, income_shift: float = 0.0) -> pd.DataFrame:
    out = {f"x{i}": rng.normal(i, 1 + i / 4, n) for i in range(6)}
    out["income"] = rng.lognormal(8 + income_shift, 0.5, n)
    out["age"] = rng.integers(18, 80, n).astype(float)  # heavy ties
    for j, k in enumerate((3, 6, 12, 40)):
        weights = np.arange(1, k + 1) / np.arange(1, k + 1).sum()
        out[f"c{j}"] = np.array([f"v{v}" for v in range(k)])[rng.choice(k, n, p=weights)]
    out["score"] = rng.beta(2, 5, n)
    return pd.DataFrame(out)


CATEGORICAL = {"c0", "c1", "c2", "c3"}


@pytest.fixture(scope="module")
def profile() -> ReferenceProfile:
    rng = np.random.default_rng(20261126)
    return ReferenceProfile.build(
        _data(rng, N), categorical=CATEGORICAL, score_column="score", sample=10_000
    )


def test_same_distribution_at_100k_rows_raises_no_alarm(profile: ReferenceProfile) -> None:
    rng = np.random.default_rng(7)
    current = _data(rng, N)
    strict = DriftThresholds(alpha=0.05)
    report = compute_drift(profile, pa.Table.from_pandas(current), thresholds=strict)
    assert report.drifted_features() == [] and not report.score.drifted  # type: ignore[union-attr]
    assert {f.band for f in report.features} == {"stable"}
    chi2 = [f.chi2_p_value for f in report.features]
    assert all(p is not None and p > 0.001 for p in chi2)
    assert all(f.p_value_adjusted >= 0.05 for f in report.features)  # type: ignore[operator]


def test_evidently_style_one_sample_chi2_treats_reference_noise_as_drift(
    profile: ReferenceProfile,
) -> None:
    """Contrast for the docs: the goodness-of-fit χ² (reference shares taken as exact) gives a
    statistic about twice the two-sample one on same-distribution data, so its false alarm rate
    is far above its nominal level."""
    rng = np.random.default_rng(11)
    report = compute_drift(profile, _data(rng, N), score_column=None)
    ratios = []
    for f in report.features:
        ref_counts = np.array(f.reference_proportions) * N
        cur_counts = np.array(f.current_proportions) * N
        keep = ref_counts > 0
        one_sample = scipy.stats.chisquare(
            cur_counts[keep], ref_counts[keep] * cur_counts.sum() / ref_counts[keep].sum()
        )
        assert f.chi2_statistic is not None and f.chi2_statistic > 0
        ratios.append(one_sample.statistic / f.chi2_statistic)
    assert np.median(ratios) == pytest.approx(2.0, rel=0.05)


def test_shifted_income_new_category_and_score_are_flagged(profile: ReferenceProfile) -> None:
    rng = np.random.default_rng(3)
    current = _data(rng, 20_000, income_shift=0.3)
    current.loc[:2_000, "c2"] = "crypto"  # a new merchant category for ~10 % of rows
    current["score"] = rng.beta(3, 4, len(current))
    report = compute_drift(profile, current)
    assert report.drifted_features() == ["income", "c2"]
    c2 = report.feature("c2")
    assert c2.unseen_categories == ["crypto"] and c2.unseen_share == pytest.approx(2_001 / 20_000)
    assert c2.labels[-2:] == ["(other)", "(missing)"] and c2.reasons == ["psi"]
    assert report.score is not None and report.score.drifted and report.score.feature == "score"
    assert report.feature("income").ks_p_value < 1e-10  # type: ignore[operator]
    assert report.feature("income").wasserstein_norm > 0.25  # type: ignore[operator]


def test_missing_share_drift_is_detected(profile: ReferenceProfile) -> None:
    rng = np.random.default_rng(5)
    current = _data(rng, 50_000)
    current.loc[current.sample(frac=0.08, random_state=1).index, "x1"] = np.nan
    current.loc[current.sample(frac=0.3, random_state=2).index, "c0"] = None
    report = compute_drift(profile, current)
    x1, c0 = report.feature("x1"), report.feature("c0")
    assert x1.null_share_reference == 0.0 and x1.null_share_current == pytest.approx(0.08)
    assert x1.drifted and x1.reasons == ["psi", "null_share"]  # the missing bin counts in PSI
    assert c0.drifted and c0.reasons == ["psi", "null_share"]
    assert x1.null_p_value < 1e-100  # type: ignore[operator]


def test_a_missing_share_move_is_drift_even_when_psi_stays_stable() -> None:
    rng = np.random.default_rng(6)
    x = rng.normal(size=40_000)
    x[:4_000] = np.nan  # 10 % missing in the reference
    profile = ReferenceProfile.build(pd.DataFrame({"x": x}), categorical=set())
    y = rng.normal(size=40_000)
    y[:6_400] = np.nan  # 16 %
    f = compute_drift(profile, pd.DataFrame({"x": y})).feature("x")
    assert f.band == "stable" and f.reasons == ["null_share"] and f.drifted
    assert not compute_drift(profile, pd.DataFrame({"x": y}), thresholds=DriftThresholds(
        null_share=None)).feature("x").drifted  # fmt: skip


def test_bad_columns_get_an_error_status_not_a_failed_run(profile: ReferenceProfile) -> None:
    rng = np.random.default_rng(9)
    current = _data(rng, 1_000).drop(columns=["x2"])
    current["x3"] = np.nan
    current["c1"] = None
    current["x4"] = "n/a"
    report = compute_drift(profile, current)
    errors = report.errors()
    assert errors["x2"] == "the current data has no column 'x2'"
    assert errors["x3"] == "all 1000 current values are null"
    assert errors["c1"] == "all 1000 current values are null"
    assert "'x4' is" in errors["x4"] and "not numeric" in errors["x4"]
    assert report.feature("x3").band is None and report.feature("x3").null_share_current == 1.0
    assert report.feature("x0").status == "ok"
    empty = compute_drift(profile, pa.Table.from_pandas(current.iloc[:0]))
    assert set(empty.errors().values()) >= {"no current rows"} and empty.rows == 0


def test_a_feature_with_no_reference_values_is_an_error() -> None:
    frame = pd.DataFrame({"x": [np.nan] * 10, "c": pd.Series([None] * 10, dtype="string")})
    profile = ReferenceProfile.build(frame, categorical={"c"})
    report = compute_drift(profile, pd.DataFrame({"x": [1.0], "c": ["a"]}))
    assert report.errors() == {
        "x": "the reference has no values for this feature",
        "c": "the reference has no values for this feature",
    }


def test_a_million_distinct_categories_stay_bounded(profile: ReferenceProfile) -> None:
    n = 1_000_000
    current = pa.table({"c3": pa.array(np.char.add("id", np.arange(n).astype(str)))})
    report = compute_drift(profile, current, score_column=None, features=["c3"])
    c3 = report.feature("c3")
    assert c3.status == "ok" and c3.band == "drift" and c3.unseen_share == 1.0
    assert len(c3.unseen_categories) == 20 and len(c3.labels) == 40 + 2
    assert report.rows == n


def test_pandas_and_arrow_inputs_agree(profile: ReferenceProfile) -> None:
    rng = np.random.default_rng(13)
    current = _data(rng, 5_000, income_shift=0.1)
    a = compute_drift(profile, current).to_dict()
    b = compute_drift(profile, pa.Table.from_pandas(current)).to_dict()
    assert a == b
    assert DriftReport.from_dict(a).to_dict() == a


def test_p_value_gates_are_corrected_across_features(profile: ReferenceProfile) -> None:
    rng = np.random.default_rng(17)
    current = _data(rng, N)
    current["x0"] += 0.08  # small: PSI stays stable, KS at 100k rows notices
    plain = compute_drift(profile, current)
    assert plain.drifted_features() == [] and plain.feature("x0").band == "stable"
    gated = compute_drift(profile, current, thresholds=DriftThresholds(alpha=0.01))
    assert gated.drifted_features() == ["x0"] and gated.feature("x0").reasons == ["p_value"]
    raw = [f.p_value for f in gated.features]
    for method in ("bh", "bonferroni"):
        report = compute_drift(
            profile,
            current,
            thresholds=DriftThresholds(alpha=0.01),
            correction=method,
        )
        expected = adjust_p_values(raw, method)  # type: ignore[arg-type]
        assert [f.p_value_adjusted for f in report.features] == expected
    none = compute_drift(profile, current, thresholds=DriftThresholds(alpha=0.01), correction=None)
    assert [f.p_value_adjusted for f in none.features] == raw
    with pytest.raises(ConfigError, match="correction must be one of"):
        compute_drift(profile, current, correction="holm")  # type: ignore[arg-type]


def test_bands_are_per_feature(profile: ReferenceProfile) -> None:
    rng = np.random.default_rng(19)
    current = _data(rng, 20_000, income_shift=0.2)
    loose = DriftThresholds(features={"income": (0.5, 5.0)})
    default = compute_drift(profile, current).feature("income")
    relaxed = compute_drift(profile, current, thresholds=loose).feature("income")
    assert default.band != "stable" and relaxed.band == "stable" and not relaxed.drifted
    gates = DriftThresholds(js=0.01, wasserstein=0.05, null_share=None)
    flagged = compute_drift(profile, current, thresholds=gates).feature("income")
    assert {"js", "wasserstein"} <= set(flagged.reasons)


def test_only_chosen_features(profile: ReferenceProfile) -> None:
    current = _data(np.random.default_rng(23), 2_000)
    report = compute_drift(profile, current, features=())
    assert report.features == [] and report.score is not None
    with pytest.raises(DataError, match="'nope' are not in the reference profile"):
        compute_drift(profile, current, features=["nope"])


def test_infinities_fall_in_the_outer_bins() -> None:
    profile = ReferenceProfile.build(pd.DataFrame({"x": np.arange(1000.0)}), categorical=set())
    current = pd.DataFrame({"x": np.r_[np.arange(990.0), [np.inf] * 5, [-np.inf] * 5]})
    f = compute_drift(profile, current).feature("x")
    assert f.status == "ok" and f.current_proportions[0] == pytest.approx(0.105)
    assert f.ks_statistic is not None and f.wasserstein_norm is not None


def test_booleans_read_the_same_from_pandas_and_arrow() -> None:
    flags = pd.DataFrame({"b": [True, False, True, None] * 250})
    profile = ReferenceProfile.build(flags, categorical={"b"})
    for current in (flags, pa.Table.from_pandas(flags)):
        f = compute_drift(profile, current).feature("b")
        assert f.psi == pytest.approx(0.0) and f.unseen_categories == []
