"""End to end: a synthetic Parquet prediction log analyzed, checked against gbstats on the same
sufficient statistics; and every kind of bad input answered with a result that says why."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from gbstats.bayesian.tests import EffectBayesianABTest
from gbstats.frequentist.tests import (
    FrequentistConfig,
    OneSidedTreatmentGreaterTTest,
    SequentialConfig,
    SequentialTwoSidedTTest,
    TwoSidedTTest,
)
from gbstats.models.statistics import (
    ProportionStatistic,
    RatioStatistic,
    RegressionAdjustedStatistic,
    SampleMeanStatistic,
)
from gbstats.utils import check_srm

from cairn.core.errors import ConfigError
from cairn.experiments.aggregate import MetricSums, sufficient_statistics
from cairn.experiments.analysis import analyze
from cairn.experiments.analysis_results import Comparison, ExperimentAnalysis
from cairn.experiments.covariates import Covariate
from cairn.experiments.metrics import BUILTIN_METRICS, Metric
from cairn.experiments.stats import adjust_p_values
from cairn.serving.log_reader import connect
from tests.experiments._log import START, write_log

AS_OF = START + timedelta(days=40)
_WINDOW = 60 * 86_400_000_000  # the whole single-strategy pre-period of the synthetic log
METRICS = [
    replace(BUILTIN_METRICS["approval_rate"], cuped=Covariate("approval_rate", _WINDOW)),
    replace(BUILTIN_METRICS["default_rate"], maturity=0),
    replace(BUILTIN_METRICS["bad_rate_among_approved"], maturity=0),
    replace(BUILTIN_METRICS["score"], cuped=Covariate("score", _WINDOW)),
    Metric("score_total", "mean", "score", family="other", cuped=Covariate("score", _WINDOW)),
    BUILTIN_METRICS["latency_ms"],
    BUILTIN_METRICS["error_rate"],
]
REL = 1e-6


def _gb(metric: Metric, s: MetricSums, cuped: bool) -> Any:
    """The gbstats statistic for the same sums."""
    if metric.kind == "ratio":
        return RatioStatistic(
            n=s.n,
            m_statistic=SampleMeanStatistic(n=s.n, sum=s.sum, sum_squares=s.sum_squares),
            d_statistic=SampleMeanStatistic(n=s.n, sum=s.d_sum, sum_squares=s.d_sum_squares),
            m_d_sum_of_products=s.m_d_sum_of_products,
        )
    if metric.kind == "proportion":
        post: Any = ProportionStatistic(n=s.n, sum=s.sum)
        pre: Any = ProportionStatistic(n=s.n, sum=s.pre_sum)
    else:
        post = SampleMeanStatistic(n=s.n, sum=s.sum, sum_squares=s.sum_squares)
        pre = SampleMeanStatistic(n=s.n, sum=s.pre_sum, sum_squares=s.pre_sum_squares)
    if not cuped:
        return post
    return RegressionAdjustedStatistic(
        n=s.n,
        post_statistic=post,
        pre_statistic=pre,
        post_pre_sum_of_products=s.post_pre_sum_of_products,
        theta=0,
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("log")
    (root / "cairn.yaml").write_text("project: t\n")
    write_log(root, seed=20261126, units=2000, arms=("control", "t1", "t2"), lift=0.3)
    return root


def _run(project: Path, **options: Any) -> ExperimentAnalysis:
    with connect(project) as con:
        return analyze(con, "credit", METRICS, as_of=AS_OF, **options)


def _check(got: float, want: float) -> None:
    assert got == pytest.approx(want, rel=REL, abs=1e-12)


@pytest.mark.parametrize("sequential", [False, True])
def test_every_output_agrees_with_gbstats(project: Path, sequential: bool) -> None:
    result = _run(project, sequential_test=sequential, n_star=5000,
                  weights={"control": 1, "t1": 1, "t2": 1})  # fmt: skip
    with connect(project) as con:
        stats = sufficient_statistics(con, "credit", METRICS, start=result.start, as_of=AS_OF)
    arms = {a.arm: a for a in stats.arms}
    assert result.control == "control" and [a.arm for a in result.arms] == ["control", "t1", "t2"]
    srm_p = check_srm([arms[a].units for a in ("control", "t1", "t2")], [1 / 3] * 3)
    assert result.srm is not None and result.srm.p_value == pytest.approx(srm_p, rel=REL)
    checked = 0
    for m in result.metrics:
        assert m.status == "ok", m.reason
        for c in m.comparisons:
            c_s, t_s = arms["control"].metrics[m.metric.name], arms[c.arm].metrics[m.metric.name]
            _agree(m.metric, c, c_s, t_s, sequential)
            checked += 1
    assert checked == 2 * len(METRICS)
    declared = {m.metric.name for m in result.metrics if m.metric.cuped is not None}
    for m in result.metrics:
        for c in m.comparisons:
            assert c.cuped.applied == (m.metric.name in declared), c.cuped.reason
            assert c.cuped.raw is not None


def _agree(metric: Metric, c: Comparison, c_s: MetricSums, t_s: MetricSums, seq: bool) -> None:
    raw = c.cuped.raw
    assert raw is not None
    _tests_agree(metric, c.relative, c.absolute, c_s, t_s, seq, c.cuped.applied)
    _tests_agree(metric, raw.relative, raw.absolute, c_s, t_s, seq, False)
    a, b = _gb(metric, c_s, c.cuped.applied), _gb(metric, t_s, c.cuped.applied)
    bayes = EffectBayesianABTest(a, b).compute_result()
    _check(c.bayes.expected, bayes.expected)
    _check(c.bayes.chance_to_win, bayes.chance_to_win)
    _check(c.bayes.risk[0], bayes.risk[0])
    _check(c.bayes.risk[1], bayes.risk[1])
    oriented = bayes.chance_to_win if metric.direction == "increase" else 1 - bayes.chance_to_win
    _check(c.chance_to_win, oriented)
    _check(c.control_mean, a.unadjusted_mean if hasattr(a, "unadjusted_mean") else a.mean)


def _tests_agree(
    metric: Metric,
    rel: Any,
    abs_: Any,
    c_s: MetricSums,
    t_s: MetricSums,
    seq: bool,
    cuped: bool,
) -> None:
    a, b = _gb(metric, c_s, cuped), _gb(metric, t_s, cuped)
    for relative, ours in ((True, rel), (False, abs_)):
        kind = "relative" if relative else "absolute"
        if metric.guardrail and not seq:
            test: Any = OneSidedTreatmentGreaterTTest(a, b, FrequentistConfig(difference_type=kind))
        elif seq:
            if metric.guardrail:
                continue  # one-sided sequential tests are Cairn's extension (E1 tests them)
            cfg = SequentialConfig(difference_type=kind, sequential_tuning_parameter=5000)
            test = SequentialTwoSidedTTest(a, b, cfg)
        else:
            test = TwoSidedTTest(a, b, FrequentistConfig(difference_type=kind))
        want = test.compute_result()
        assert want.error_message is None and ours.error is None
        _check(ours.expected, want.expected)
        _check(ours.ci[0], want.ci[0])
        if not metric.guardrail:
            _check(ours.ci[1], want.ci[1])
        assert ours.p_value is not None
        _check(ours.p_value, want.p_value)


def test_corrections_run_within_each_family(project: Path) -> None:
    for method in ("holm", "bh", "bonferroni"):
        result = _run(project, correction=method)
        families: dict[str, list[Comparison]] = {}
        for m in result.metrics:
            if not m.metric.guardrail:
                families.setdefault(m.metric.family, []).extend(m.comparisons)
        assert sorted(families) == ["goals", "other"]
        for members in families.values():
            raw = [c.p_value or 1.0 for c in members]
            assert [c.adjusted_p_value for c in members] == adjust_p_values(raw, method)
    none = _run(project, correction=None)
    assert all(c.adjusted_p_value == c.p_value for m in none.metrics for c in m.comparisons)


def test_verdicts_follow_the_good_direction(project: Path) -> None:
    result = _run(project)
    score = result.metric("score")  # treatment lowers scores (a lower score is better)
    assert {c.verdict for c in score.comparisons} == {"better"}
    assert all(c.chance_to_win > 0.99 for c in score.comparisons)
    latency = result.metric("latency_ms")  # treatment is 0.05 ms slower: a one-sided harm test
    assert all(c.relative.ci[1] == float("inf") for c in latency.comparisons)
    assert {c.verdict for c in latency.comparisons} <= {"harm", "no harm"}


def test_segments_compare_each_arm_within_each_segment(project: Path) -> None:
    result = _run(project, segment="features->>'region'", max_segments=2)
    m = result.metric("approval_rate")
    assert {s.segment for s in m.segments} == {"north", "south", "(other)"}
    assert {s.arm for s in m.segments} == {"t1", "t2"} and result.dimension == "features.region"
    for arm in ("t1", "t2"):
        assert sum(s.treatment_n for s in m.segments if s.arm == arm) == next(
            c.treatment_n for c in m.comparisons if c.arm == arm
        )


def test_result_is_plain_json(project: Path) -> None:
    import json

    result = _run(project, segment="arm")  # each segment holds one arm: nothing to compare
    segments = result.metric("approval_rate").segments
    assert len(segments) == 6 and all((s.error or "").startswith("empty arm") for s in segments)
    data = result.to_dict()
    text = json.dumps(data, allow_nan=False)
    assert '"verdict"' in text and data["metrics"][0]["metric"]["maturity"] == "0s"


# --- bad input: a result that says why -------------------------------------------------------


def test_weights_that_do_not_match_the_arms(project: Path) -> None:
    result = _run(project, weights={"control": 1, "t1": 1})
    assert result.srm is None and "also has t2" in (result.srm_note or "")
    missing_arm = _run(project, weights={"control": 1, "t1": 1, "t2": 1, "t3": 1})
    assert missing_arm.srm is not None and missing_arm.srm.mismatch  # t3 got no units at all
    unchecked = _run(project)
    assert (
        unchecked.srm is None and unchecked.srm_note == "not checked: no traffic weights were given"
    )


def test_zero_variance_and_empty_arms(project: Path) -> None:
    always = Metric("always", "proportion", "TRUE")
    control_only = Metric("control_only", "mean", "CASE WHEN arm = 'control' THEN score END")
    with connect(project) as con:
        result = analyze(con, "credit", [always, control_only], as_of=AS_OF)
    zero = result.metric("always").comparisons[0]
    assert zero.verdict == "error" and (zero.error or "").startswith("zero variance")
    assert zero.p_value is None and zero.adjusted_p_value is None
    empty = result.metric("control_only").comparisons[0]
    assert empty.verdict == "error" and (empty.error or "").startswith("empty arm")


def test_one_arm_is_not_enough_data(tmp_path: Path) -> None:
    write_log(tmp_path, seed=3, units=50, arms=("main",))
    with connect(tmp_path) as con:
        result = analyze(con, "credit", METRICS, as_of=AS_OF)
    assert result.status == "not enough data" and result.metrics == []
    assert "only arm 'main' has units" in (result.reason or "")


def test_no_predictions_is_not_enough_data(project: Path) -> None:
    with connect(project) as con:
        result = analyze(con, "nothing-here", METRICS, as_of=AS_OF)
    assert result.status == "not enough data" and "no predictions" in (result.reason or "")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"control": "nope"}, "control arm 'nope' has no units"),
        ({"correction": "sidak"}, "correction must be"),
        ({"segment": "no_such_column"}, "Segment 'no_such_column'"),
        ({"min_completeness": 0}, "min_completeness"),
    ],
)
def test_bad_arguments_raise_one_clear_error(
    project: Path, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        _run(project, **options)
