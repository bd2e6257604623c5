"""CUPED only where experiments.yaml declares a covariate, from non-experiment pre-period traffic
only; raw and adjusted estimates side by side; a degenerate adjustment falls back and says why."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cairn.core.errors import ConfigError
from cairn.experiments.aggregate import ArmSums, MetricSums, sufficient_statistics
from cairn.experiments.analysis import analyze
from cairn.experiments.comparison import ArmComparer
from cairn.experiments.covariates import Covariate
from cairn.experiments.metrics import BUILTIN_METRICS, Metric, MetricCatalog, with_covariates
from cairn.serving.log_reader import connect
from tests.experiments._log import START, write_log

DAY = timedelta(days=1)
AS_OF = START + 10 * DAY
WINDOW = 28 * 86_400_000_000
RATE = BUILTIN_METRICS["approval_rate"]
DECLARED = Metric(
    "approval_rate", "proportion", "NOT positive", cuped=Covariate("approval_rate", WINDOW)
)
COLUMNS = "prediction_id, time, deployment, strategy, seed, arm, unit_id, decision, score"


def _connect(rows: list[tuple[Any, ...]]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(
        f"CREATE TABLE predictions AS SELECT * FROM (VALUES {', '.join(['(?,?,?,?,?,?,?,?,?)'] * len(rows))}) t({COLUMNS})",  # noqa: E501
        [v for row in rows for v in row],
    )
    con.execute(
        "CREATE VIEW outcomes AS SELECT NULL::VARCHAR AS prediction_id, NULL::VARCHAR AS entity, "
        "NULL::TIMESTAMPTZ AS event_time, NULL::VARCHAR AS deployment, NULL::DOUBLE AS label, "
        "NULL::TIMESTAMPTZ AS observed_at WHERE false"
    )
    return con


def _experiment(units: int = 400) -> list[tuple[Any, ...]]:
    """An A/B test (seed s1) where each arm approves exactly half of its units."""
    rows = []
    for i in range(units):
        arm = ("control", "treatment")[i % 2]
        decision = "approve" if (i // 2) % 2 == 0 else "decline"
        score = 0.2 if decision == "approve" else 0.8
        rows.append((f"e{i}", START + DAY, "credit", "ab", "s1", arm, f"u{i}", decision, score))
    return rows


def _replay(rows: list[tuple[Any, ...]], prefix: str, when: datetime, strategy: str,
            seed: str | None) -> list[tuple[Any, ...]]:  # fmt: skip
    """The same units and decisions logged again before the start."""
    return [(f"{prefix}{r[0]}", when, r[2], strategy, seed, "main", *r[6:]) for r in rows]


def test_replay_falls_back_and_shows_the_arm_mean() -> None:
    rows = _experiment()
    con = _connect([*rows, *_replay(rows, "pre", START - 3 * DAY, "single", None)])
    result = analyze(con, "credit", [DECLARED], as_of=AS_OF)
    m = result.metric("approval_rate")
    assert [a.mean for a in m.arms] == [0.5, 0.5]
    c = m.comparisons[0]
    assert c.error is None and c.verdict == "flat"
    assert (c.control_mean, c.treatment_mean) == (0.5, 0.5)
    assert not c.cuped.applied and c.cuped.pre_units == (200, 200)
    assert c.cuped.reason is not None and c.cuped.reason.startswith("near-zero residual variance")
    assert c.cuped.raw is not None and c.relative == c.cuped.raw.relative
    assert c.cuped.adjusted is None and c.p_value == pytest.approx(1.0)
    assert c.to_dict()["verdict_basis"] == "unadjusted"


def test_other_experiments_and_old_traffic_are_not_the_pre_period() -> None:
    rows = _experiment()
    earlier_ab = _replay(rows, "ab", START - 5 * DAY, "ab", "s0")  # an earlier A/B test
    old_canary = _replay(rows, "cn", START - 4 * DAY, "canary", None)  # an unseeded old log
    too_old = _replay(rows, "old", START - 40 * DAY, "single", None)  # outside the 28d window
    quiet = [  # non-experiment traffic in the window: approved for one unit in three
        (f"q{i}", START - 2 * DAY, "credit", "single", None, "main", f"u{i}",
         "approve" if i % 3 == 0 else "decline", 0.5)
        for i in range(0, 400, 2)
    ]  # fmt: skip
    con = _connect([*rows, *earlier_ab, *old_canary, *too_old, *quiet])
    stats = sufficient_statistics(con, "credit", [DECLARED], start=START, as_of=AS_OF)
    by_arm = {a.arm: a.metrics["approval_rate"] for a in stats.arms}
    control, treatment = by_arm["control"], by_arm["treatment"]
    assert (control.pre_n, control.pre_sum) == (200, sum(1 for i in range(0, 400, 2) if i % 3 == 0))
    assert (treatment.pre_n, treatment.pre_sum) == (0, 0.0)  # no quiet traffic for odd units
    undeclared = sufficient_statistics(con, "credit", [RATE], start=START, as_of=AS_OF)
    assert all(a.metrics["approval_rate"].pre_n == 0 for a in undeclared.arms)
    c = analyze(con, "credit", [DECLARED], as_of=AS_OF).metric("approval_rate").comparisons[0]
    assert not c.cuped.applied
    assert c.cuped.reason is not None and c.cuped.reason.startswith("too few units")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cuped")
    (root / "cairn.yaml").write_text("project: t\n")
    write_log(root, seed=7, units=3000, lift=0.3, pre=3)
    return root


def test_raw_and_adjusted_both_in_the_json(project: Path) -> None:
    score = BUILTIN_METRICS["score"]
    declared = Metric("score", "mean", "score", unit_aggregate="avg", direction="decrease",
                      cuped=Covariate("score", 60 * 86_400_000_000))  # fmt: skip
    with connect(project) as con:
        result = analyze(con, "credit", [declared, RATE], as_of=START + 40 * DAY)
        plain = analyze(con, "credit", [score], as_of=START + 40 * DAY)
    data = json.loads(json.dumps(result.to_dict()))
    c = data["metrics"][0]["comparisons"][0]
    cuped = c["cuped"]
    assert cuped["applied"] is True and cuped["reason"] is None
    assert (cuped["covariate"], cuped["window"]) == ("score", "60d")
    assert c["verdict_basis"].startswith("CUPED-adjusted")
    raw, adjusted = cuped["raw"], cuped["adjusted"]
    for part in (raw, adjusted):
        assert set(part) == {"control_mean", "treatment_mean", "relative", "absolute"}
        assert part["relative"]["ci"][0] < part["relative"]["ci"][1]
    unadjusted = plain.metric("score").comparisons[0]
    assert raw["relative"]["expected"] == pytest.approx(unadjusted.relative.expected)
    assert raw["relative"]["ci"] == pytest.approx(list(unadjusted.relative.ci))
    assert c["relative"] == adjusted["relative"]
    se_ratio = adjusted["relative"]["se"] / raw["relative"]["se"]
    assert cuped["variance_reduction"] == pytest.approx(1 - se_ratio**2) and se_ratio < 0.9
    diff = adjusted["treatment_mean"] - adjusted["control_mean"]
    assert diff == pytest.approx(adjusted["absolute"]["expected"])
    assert (raw["control_mean"], raw["treatment_mean"]) == (c["control_mean"], c["treatment_mean"])
    other = data["metrics"][1]["comparisons"][0]["cuped"]
    assert other["applied"] is False and other["reason"].startswith("not declared")
    assert other["adjusted"] is None and other["raw"] is not None


def test_no_cuped_turns_declared_covariates_off(project: Path) -> None:
    with connect(project) as con:
        result = analyze(con, "credit", [DECLARED], as_of=START + 40 * DAY, cuped=False)
    c = result.metric("approval_rate").comparisons[0]
    assert not c.cuped.applied and c.cuped.reason == "turned off for this analysis (--no-cuped)"


def test_min_units_is_configurable(project: Path) -> None:
    strict = Metric("approval_rate", "proportion", "NOT positive",
                    cuped=Covariate("approval_rate", WINDOW * 3, min_units=10**6))  # fmt: skip
    with connect(project) as con:
        c = analyze(con, "credit", [strict], as_of=START + 40 * DAY).metric("approval_rate")
    cuped = c.comparisons[0].cuped
    assert not cuped.applied and cuped.reason is not None and "1000000 each" in cuped.reason


def test_declarations_are_checked() -> None:
    catalog = MetricCatalog.from_mapping(
        {"metrics": {"score": {"cuped": {"covariate": "approval_rate", "window": "14d"}}}}
    )
    covariate = catalog.get("score").cuped
    assert covariate is not None and (covariate.sql, covariate.kind) == (
        "NOT positive",
        "proportion",
    )
    assert catalog.get("approval_rate").cuped is None  # no declaration, no CUPED
    bad = [
        ({"covariate": "nope", "window": "7d"}, "names no known metric"),
        ({"covariate": "latency_ms", "window": "7d"}, "ratio"),
        ({"covariate": "score", "window": "0s"}, "positive duration"),
        ({"covariate": "score"}, "window"),
        ({"covariate": "score", "window": "7d", "min_units": 1}, "min_units"),
        ({"covariate": "score", "window": "7d", "lag": 1}, "lag"),
    ]
    for spec, needle in bad:
        with pytest.raises(ConfigError, match=needle):
            MetricCatalog.from_mapping({"metrics": {"score": {"cuped": spec}}})
    with pytest.raises(ConfigError, match="ratio"):
        MetricCatalog.from_mapping(
            {"metrics": {"latency_ms": {"cuped": {"covariate": "score", "window": "7d"}}}}
        )


def _sums(post: np.ndarray, pre: np.ndarray) -> MetricSums:
    return MetricSums(
        n=len(post), sum=float(post.sum()), sum_squares=float((post**2).sum()), pre_n=len(pre),
        pre_sum=float(pre.sum()), pre_sum_squares=float((pre**2).sum()),
        post_pre_sum_of_products=float((post * pre).sum()),
    )  # fmt: skip


MEAN = with_covariates([Metric("m", "mean", "score", cuped=Covariate("m", WINDOW))])[0]


def _compare(c: MetricSums, t: MetricSums) -> Any:
    arms = [ArmSums(name, s.n, {"m": s}) for name, s in (("control", c), ("treatment", t))]
    return ArmComparer(False, 10_000, 0.05, True).compare(MEAN, arms[0], arms[1], None)


def _width(ci: tuple[float, float]) -> float:
    return ci[1] - ci[0]


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(30, 3000), shift=st.floats(-2, 2))
def test_identical_arms_are_never_widened(seed: int, n: int, shift: float) -> None:
    """Both arms the same units: θ is each arm's own slope shrunk by (2n-2)/(2n-1), so the
    adjusted variance is var(1 - c(2 - c)ρ²) <= var, whatever the covariate."""
    rng = np.random.default_rng(seed)
    pre = rng.normal(shift, 1.0, n)
    post = rng.normal(5.0, 2.0, n) + shift * pre
    same = _sums(post, pre)
    c = _compare(same, same)
    raw = c.cuped.raw
    if c.cuped.applied:
        assert _width(c.relative.ci) <= _width(raw.relative.ci) * (1 + 1e-9)
        assert c.cuped.variance_reduction >= -1e-9
    else:
        assert c.cuped.reason is not None


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(500, 4000))
def test_an_uncorrelated_covariate_barely_changes_the_interval(seed: int, n: int) -> None:
    """An independent covariate: θ is O(1/sqrt n) and each arm's covariance O(1/sqrt n), so the
    adjusted interval is wider than raw by O(1/n) at most (25/n is far beyond 5 sigma)."""
    rng = np.random.default_rng(seed)
    arms = [_sums(rng.normal(m, 1.0, n), rng.normal(3.0, 1.5, n)) for m in (10.0, 10.05)]
    c = _compare(*arms)
    assert c.cuped.applied, c.cuped.reason
    assert _width(c.relative.ci) <= _width(c.cuped.raw.relative.ci) * (1 + 25 / n)
    assert abs(c.cuped.theta) < 6 / np.sqrt(n)
