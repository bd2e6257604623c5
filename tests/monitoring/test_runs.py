"""One monitoring run over a seeded log: drift, robustness, segments, performance, signals."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from cairn.core.config import MonitoringSettings
from cairn.core.predictions import Outcome, PredictionRecord
from cairn.monitoring import MonitorHistory, ReferenceProfile, compute_drift
from cairn.monitoring.runs import OTHER, MonitorRun, monitor, thresholds_of
from cairn.monitoring.window import read_window, resolve_window
from tests.monitoring.test_window import DAY, T0, connection, log_table, outcome_table, record

N = 1500


@pytest.fixture(scope="module")
def profile() -> ReferenceProfile:
    rng = np.random.default_rng(20261126)
    frame = pd.DataFrame(
        {
            "income": rng.normal(3000, 500, 4000),
            "age": rng.normal(40, 10, 4000),
            "job": rng.choice(["fixed", "temp"], 4000),
            "score": rng.beta(2, 5, 4000),
        }
    )
    return ReferenceProfile.build(frame, categorical={"job"}, score_column="score", sample=2000)


def traffic(
    start: int,
    seed: int,
    *,
    shift: float = 0.0,
    n: int = N,
    age: bool = True,
    first: int = 0,
    **kw: object,
) -> list[PredictionRecord]:
    """``n`` predictions spread over the day from ``start``, like the reference (or with
    income shifted, or without age)."""
    rng = np.random.default_rng(seed)
    income = rng.normal(3000 + shift, 500, n)
    ages = rng.normal(40, 10, n)
    jobs = rng.choice(["fixed", "temp"], n)
    scores = rng.beta(2, 5, n)
    times = np.sort(start + rng.integers(0, DAY, n))
    out = []
    for i in range(n):
        features = {"income": float(income[i]), "job": str(jobs[i])}
        features["age"] = float(ages[i]) if age else None
        arm = "canary" if i % 10 == 0 else "main"
        values = {"arm": arm, **kw}
        out.append(record(first + i, int(times[i]), features, float(scores[i]), **values))
    return out


def run(profile: ReferenceProfile, records: list[PredictionRecord], **kw: object) -> MonitorRun:
    outcomes = kw.pop("outcomes", [])
    con = connection(log_table(records), outcome_table(outcomes))  # type: ignore[arg-type]
    args: dict[str, object] = {
        "deployment": "credit",
        "model_name": "credit-default",
        "model_version": "1",
        "width": DAY,
        "as_of": T0 + DAY,
    }
    args.update(kw)
    return monitor(con, profile, **args)  # type: ignore[arg-type]


def test_traffic_like_the_reference_flags_nothing(profile: ReferenceProfile) -> None:
    result = run(profile, traffic(T0, 1))
    assert result.status == "ok" and result.rows == N
    assert result.flagged() == [] and result.signals == [] and result.errors() == []
    assert {f.feature for f in result.results()} == {"income", "age", "job", "score"}
    assert result.message.endswith("no drift")


def test_a_shifted_input_is_flagged_and_an_all_null_one_is_an_error_not_a_failure(
    profile: ReferenceProfile,
) -> None:
    result = run(profile, traffic(T0, 2, shift=800, age=False))
    assert result.status == "ok" and result.flagged() == ["income"]
    (age,) = result.errors()
    assert age.feature == "age" and age.state == "error" and age.error
    assert [(s.kind, s.subject, s.band) for s in result.signals] == [("drift", "income", "drift")]
    signal = result.signals[0]
    assert signal.threshold == 0.25 and signal.value > 0.25 and signal.at == T0 + DAY
    assert "psi" in signal.details["reasons"] and signal.segment is None
    assert "drifted: income" in result.message


def test_an_empty_window_says_so(profile: ReferenceProfile) -> None:
    result = run(profile, traffic(T0 + 5 * DAY, 3, n=10))
    assert result.status == "empty" and result.rows == 0 and result.features == []
    assert result.message.startswith("Empty window: no primary prediction of 'credit' in [")


def test_score_drift_is_measured_on_the_rows_the_reference_version_scored(
    profile: ReferenceProfile,
) -> None:
    mine = traffic(T0, 4, n=800)
    theirs = [
        PredictionRecord(**{**r.__dict__, "score": 0.99, "model_version": "2"})
        for r in traffic(T0, 5, n=800, first=10_000)
    ]
    result = run(profile, mine + theirs)
    assert result.score is not None and result.score.band == "stable"
    assert result.score.rows == 800 and result.rows == 1600
    only_theirs = run(profile, theirs)
    assert only_theirs.score is not None and only_theirs.score.state == "error"


def test_per_feature_bands_from_settings(profile: ReferenceProfile) -> None:
    settings = MonitoringSettings(bands={"income": (0.001, 0.002)})
    result = run(profile, traffic(T0, 6), settings=settings)
    income = next(f for f in result.results() if f.feature == "income")
    assert income.band == "drift" and result.flagged() == ["income"]
    assert result.signals[0].threshold == 0.002


def test_segments_compare_with_the_same_segment_in_the_preceding_window(
    profile: ReferenceProfile,
) -> None:
    before = traffic(T0 - DAY, 7)
    now = [
        r
        if r.arm == "main"
        else PredictionRecord(**{**r.__dict__, "features": {**r.features, "income": 9000.0}})
        for r in traffic(T0, 8, first=N)
    ]
    small = traffic(T0, 9, n=20, first=10 * N, arm="blue")
    result = run(
        profile,
        before + now + small,
        segment="arm",
        settings=MonitoringSettings(min_segment_rows=50),
    )
    assert result.segment_column == "arm"
    assert result.segments == {"arm=main": 1350, "arm=canary": 150, "arm=blue": 20}
    assert result.flagged("arm=canary") == ["income"]  # only the canary's traffic moved
    assert result.flagged("arm=main") == []
    assert result.results("arm=blue") == []  # too few rows to compare
    segment_signals = [(s.subject, s.segment) for s in result.signals if s.segment]
    assert segment_signals == [("income", "arm=canary")]


def test_a_high_cardinality_segment_stays_bounded(profile: ReferenceProfile) -> None:
    records = traffic(T0 - DAY, 10, n=300) + traffic(T0, 11, n=300, first=300)
    settings = MonitoringSettings(max_segments=3, min_segment_rows=1)
    result = run(profile, records, segment="customer_id", settings=settings)
    assert len(result.segments) == 4 and f"customer_id={OTHER}" in result.segments
    assert result.segments[f"customer_id={OTHER}"] == 297


def test_performance_and_its_signal(profile: ReferenceProfile) -> None:
    records = traffic(T0, 12, n=400)
    outcomes = [
        Outcome(float(r.score > 0.3), T0 + 2 * DAY, prediction_id=r.prediction_id)
        for r in records[:-40]
    ]  # 90 % labeled; labels follow the score, so AUC is high
    coin = np.random.default_rng(13).integers(0, 2, len(outcomes))
    noise = [  # labels unrelated to the score: AUC ~0.5, KS small
        Outcome(float(c), o.observed_at, prediction_id=o.prediction_id)
        for c, o in zip(coin, outcomes, strict=True)
    ]
    good = run(profile, records, outcomes=outcomes, baseline={"auc": 0.8, "ks": 0.5})
    assert good.performance is not None and good.performance.status == "judged"
    # labels `score > 0.3` rank perfectly but are no probabilities: AUC fine, calibration not
    assert good.performance.degraded == []
    assert [(s.kind, s.subject) for s in good.signals] == [("calibration", "ece")]
    bad = run(profile, records, outcomes=noise, baseline={"auc": 0.8, "ks": 0.5})
    assert bad.performance is not None and bad.performance.degraded == ["auc", "ks"]
    assert [(s.kind, s.subject, s.band) for s in bad.signals] == [
        ("performance", "auc", "degraded"),
        ("performance", "ks", "degraded"),
        ("calibration", "ece", "degraded"),  # mean score ~0.29 vs a coin's 0.5
    ]
    assert bad.signals[0].threshold == pytest.approx(0.75)


def test_a_stored_run_reads_back_the_drift_compute_drift_returned(
    profile: ReferenceProfile,
) -> None:
    """Stored runs used to lose the p-values that flagged a feature (χ², p_value...)."""
    settings = MonitoringSettings(alpha=0.05)
    con = connection(log_table(traffic(T0, 14, shift=60, age=False)))
    window = resolve_window(con, "credit", width=DAY, as_of=T0 + DAY)
    kinds = {"income": "numeric", "age": "numeric", "job": "categorical"}
    table = read_window(con, window, kinds)  # type: ignore[arg-type]
    computed = compute_drift(profile, table, thresholds=thresholds_of(settings))
    assert computed.score is not None
    expected = {f.feature: f for f in computed.features}
    expected["score"] = replace(computed.score, kind="score")
    done = run(profile, traffic(T0, 14, shift=60, age=False), settings=settings)
    history = MonitorHistory("sqlite://", project="credit")
    stored, _ = history.record(done)
    assert stored.run_id is not None
    back = {f.feature: f for f in history.get(stored.run_id).results()}
    assert back == expected  # every field, p-values and reasons included
    income = back["income"]
    assert income.reasons == ["p_value"] and income.band != "drift"  # flagged by its p-value
    assert income.p_value == income.ks_p_value and income.p_value_adjusted is not None
    assert back["job"].p_value == back["job"].chi2_p_value is not None
    assert back["age"].state == "error" and back["age"].p_value is None
    for name, f in expected.items():
        got = back[name]
        assert (got.ks_p_value, got.chi2_p_value, got.p_value, got.p_value_adjusted) == (
            f.ks_p_value,
            f.chi2_p_value,
            f.p_value,
            f.p_value_adjusted,
        ), name
        assert (got.chi2_statistic, got.null_p_value, got.reasons) == (
            f.chi2_statistic,
            f.null_p_value,
            f.reasons,
        ), name


def test_the_label_rate_signal_and_no_label_signal_before_maturity(
    profile: ReferenceProfile,
) -> None:
    """Training saw 28 % positives; this month's matured labels are 60 % positive."""
    trained = replace(
        profile, label={"column": "y", "positive_value": 1, "rate": 0.28, "count": 4000}
    )
    records = traffic(T0, 21, n=400)
    rng = np.random.default_rng(22)
    positive = rng.random(len(records)) < 0.6
    outcomes = [
        Outcome(float(p), T0 + 2 * DAY, prediction_id=r.prediction_id)
        for p, r in zip(positive, records, strict=True)
    ]
    judged = run(trained, records, outcomes=outcomes)
    assert judged.performance is not None and judged.performance.status == "judged"
    rate = judged.performance.label_rate
    assert (
        rate is not None
        and rate["raised"]
        and rate["observed_rate"] == pytest.approx(0.6, abs=0.06)
    )
    (signal,) = [s for s in judged.signals if s.kind == "label_rate"]
    assert signal.value == pytest.approx(rate["observed_rate"]) and signal.threshold == 0.28
    assert signal.model_version == "1" and signal.details["reference_count"] == 4000
    # a third of the labels arrived: the first labels are no fair sample, so neither the
    # label rate nor calibration is judged (the metrics wait for completeness as well)
    early = run(trained, records, outcomes=outcomes[: len(outcomes) // 3])
    assert early.performance is not None and early.performance.status == "immature"
    assert early.performance.label_rate is None and early.performance.calibration is None
    assert [s for s in early.signals if s.kind in ("label_rate", "calibration")] == []
