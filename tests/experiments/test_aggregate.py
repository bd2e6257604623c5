"""The one SQL aggregate equals a pandas re-implementation of the same rules on random logs."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cairn.core.errors import DataError
from cairn.experiments.aggregate import MetricSums, sufficient_statistics
from cairn.experiments.covariates import Covariate
from cairn.experiments.metrics import BUILTIN_METRICS, Metric, resolve_covariates
from cairn.experiments.segments import Dimension

START = datetime(2026, 3, 1, tzinfo=UTC)
AS_OF = START + timedelta(days=10)
_DAY = 86_400_000_000
_SCORE = BUILTIN_METRICS["score"]
METRICS = [
    replace(BUILTIN_METRICS["approval_rate"], cuped=Covariate("approval_rate", 3 * _DAY)),
    Metric("defaulted", "proportion", "label > 0", maturity=3 * _DAY,
           cuped=Covariate("score", 10 * _DAY)),
    replace(_SCORE, cuped=Covariate("score", 10 * _DAY)),
    Metric("score_sum", "mean", "score", unit_aggregate="sum"),
    BUILTIN_METRICS["latency_ms"],
    Metric("bad", "ratio", "CASE WHEN decision = 'approve' THEN label END",
           denominator="CASE WHEN decision = 'approve' AND label IS NOT NULL THEN 1.0 ELSE 0 END",
           maturity=86_400_000_000),
]  # fmt: skip
METRICS = list(resolve_covariates({**BUILTIN_METRICS, **{m.name: m for m in METRICS}}).values())
METRICS = [m for m in METRICS if m.name in {"approval_rate", "defaulted", "score", "score_sum",
                                             "latency_ms", "bad"}]  # fmt: skip


def _log(seed: int, units: int, rows: int, arms: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n = units * rows
    unit = rng.integers(0, units, size=n)
    arm_of_unit = rng.integers(0, arms, size=units)
    mixed = rng.uniform(size=n) < 0.05  # a few rows in another arm: multiple exposures
    arm = np.where(mixed, (arm_of_unit[unit] + 1) % arms, arm_of_unit[unit])
    days = rng.uniform(-5, 12, size=n)  # before the start, during, and after as_of
    time = pd.to_datetime(START) + pd.to_timedelta(np.round(days * 86_400e6), unit="us")
    score = np.round(rng.uniform(size=n), 2)
    other = rng.uniform(size=n) < 0.3  # pre-period rows of an earlier experiment: not covariates
    predictions = pd.DataFrame(
        {
            "prediction_id": [f"p{i}" for i in range(n)],
            "time": time.astype("datetime64[us, UTC]"),
            "deployment": np.where(rng.uniform(size=n) < 0.05, "other", "credit"),
            "strategy": np.where(days < 0, np.where(other, "ab", "single"), "ab"),
            "seed": [
                None if d < 0 and not o else "earlier" if d < 0 else "now"
                for d, o in zip(days, other, strict=True)
            ],
            "arm": np.where(days < 0, "main", np.array([f"a{k}" for k in range(arms)])[arm]),
            "unit_id": np.where(rng.uniform(size=n) < 0.1, None, [f"u{u}" for u in unit]),
            "score": score,
            "decision": np.where(score >= 0.5, "decline", "approve"),
            "latency_ms": np.round(rng.gamma(2.0, 1.0, size=n), 3),
            "shadow": rng.uniform(size=n) < 0.1,
            "entity": [f'{{"customer_id": {u}}}' for u in unit],
            "features": [f'{{"region": "r{u % 4}"}}' for u in unit],
        }
    )
    labeled = rng.uniform(size=n) < 0.7
    observed = time + pd.to_timedelta(np.round(rng.uniform(0, 6, size=n) * 86_400e6), unit="us")
    outcomes = pd.DataFrame(
        {
            "prediction_id": predictions["prediction_id"][labeled].to_numpy(),
            "entity": None,
            "event_time": pd.Series(
                pd.NaT, index=range(int(labeled.sum())), dtype="datetime64[us, UTC]"
            ),
            "deployment": "credit",
            "label": (rng.uniform(size=int(labeled.sum())) < 0.3).astype(float),
            "observed_at": observed[labeled].astype("datetime64[us, UTC]"),
        }
    )
    outcomes["entity"] = outcomes["entity"].astype(object)
    return predictions, outcomes


def _utc(values: list[str]) -> pd.Series:
    return pd.Series(pd.to_datetime(values, utc=True)).astype("datetime64[us, UTC]")


def _connect(predictions: pd.DataFrame, outcomes: pd.DataFrame) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.register("predictions", predictions)
    con.register("outcomes", outcomes)
    return con


def _row_value(m: Metric, rows: pd.DataFrame, what: str = "value") -> pd.Series:
    approve = rows["decision"] == "approve"
    label = rows["label"]
    if m.name == "approval_rate":
        return approve.astype(float)
    if m.name == "defaulted":
        return (label > 0).astype(float).where(label.notna())
    if m.name in ("score", "score_sum"):
        return rows["score"].astype(float)
    if m.name == "latency_ms":
        return rows["latency_ms"] if what == "value" else pd.Series(1.0, index=rows.index)
    if what == "value":
        return label.where(approve)
    return (approve & label.notna()).astype(float)


def _oracle(pred: pd.DataFrame, out: pd.DataFrame, metric: Metric) -> dict[str, MetricSums]:
    """The rules of cairn.experiments.aggregate, in pandas, one metric at a time."""
    rows = pred[(pred.deployment == "credit") & ~pred.shadow & (pred.time <= AS_OF)].copy()
    rows["unit"] = rows.unit_id.fillna(rows.prediction_id)
    known = out[out.observed_at <= AS_OF].sort_values("observed_at")
    labels = known.groupby("prediction_id").label.last()
    rows["label"] = rows.prediction_id.map(labels)
    rows["in_exp"] = rows.time >= START
    cut = AS_OF - timedelta(microseconds=metric.maturity)
    rows["mature"] = rows.time <= cut
    arms = (
        rows[rows.in_exp].groupby("unit").arm.agg(lambda a: a.iloc[0] if a.nunique() == 1 else None)
    )
    post = rows[rows.in_exp & rows.mature].copy()
    window = START - timedelta(microseconds=metric.cuped.window if metric.cuped else 0)
    unassigned = rows.seed.isna() & rows.strategy.isin(["single", "blue-green"])
    pre = rows[~rows.in_exp & rows.mature & unassigned & (rows.time >= window)].copy()
    covariate = BUILTIN_METRICS[metric.cuped.metric] if metric.cuped is not None else metric
    pre_agg = "mean" if covariate.unit_aggregate == "avg" else covariate.unit_aggregate
    pre_agg = "max" if covariate.kind == "proportion" else pre_agg
    aggregate = "max" if metric.kind == "proportion" else metric.unit_aggregate
    agg = "mean" if aggregate == "avg" else aggregate
    result: dict[str, MetricSums] = {}
    for arm_name in sorted(a for a in arms.dropna().unique()):
        members = arms.index[arms == arm_name]
        p = post[post.unit.isin(members)]
        mature = p.groupby("unit").size().reindex(members).notna()
        labeled = p[p.label.notna()].groupby("unit").size().reindex(members).notna()
        extra: dict[str, Any] = {
            "mature_units": int(mature.sum()),
            "labeled_units": int(labeled.sum()) if metric.uses_outcome else 0,
        }
        if metric.kind == "ratio":
            num = _row_value(metric, p).groupby(p.unit).sum(min_count=1).fillna(0.0)
            den = _row_value(metric, p, "den").groupby(p.unit).sum(min_count=1).dropna()
            num = num.reindex(den.index)
            result[str(arm_name)] = MetricSums(
                n=len(den), sum=num.sum(), sum_squares=(num**2).sum(), d_sum=den.sum(),
                d_sum_squares=(den**2).sum(), m_d_sum_of_products=(num * den).sum(), **extra,
            )  # fmt: skip
            continue
        v = _row_value(metric, p).groupby(p.unit).agg(agg).dropna()
        q = pre[pre.unit.isin(v.index)]
        b = _row_value(covariate, q).groupby(q.unit).agg(pre_agg).dropna().reindex(v.index)
        if metric.cuped is None:
            b = b * np.nan
        b0 = b.fillna(0.0)
        result[str(arm_name)] = MetricSums(
            n=len(v), sum=v.sum(), sum_squares=(v**2).sum(), pre_n=int(b.notna().sum()),
            pre_sum=b0.sum(), pre_sum_squares=(b0**2).sum(),
            post_pre_sum_of_products=(v * b0).sum(), **extra,
        )  # fmt: skip
    return result


def _close(a: MetricSums, b: MetricSums) -> None:
    for name in MetricSums.__dataclass_fields__:
        x, y = getattr(a, name), getattr(b, name)
        assert math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9), (name, x, y)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 100_000),
    units=st.integers(2, 40),
    rows=st.integers(1, 4),
    arms=st.integers(2, 3),
)
def test_sql_sums_equal_pandas(seed: int, units: int, rows: int, arms: int) -> None:
    pred, out = _log(seed, units, rows, arms)
    stats = sufficient_statistics(_connect(pred, out), "credit", METRICS, start=START, as_of=AS_OF)
    for metric in METRICS:
        expected = _oracle(pred, out, metric)
        got = {a.arm: a.metrics[metric.name] for a in stats.arms}
        assert sorted(got) == sorted(expected)
        for arm, sums in expected.items():
            _close(got[arm], sums)


def test_units_in_two_arms_are_excluded_and_counted() -> None:
    pred, out = _log(7, 50, 4, 2)
    stats = sufficient_statistics(_connect(pred, out), "credit", METRICS[:1], start=START,
                                  as_of=AS_OF)  # fmt: skip
    rows = pred[(pred.deployment == "credit") & ~pred.shadow & (pred.time >= START)
                & (pred.time <= AS_OF)]  # fmt: skip
    unit = rows.unit_id.fillna(rows.prediction_id)
    multi = int((rows.groupby(unit).arm.nunique() > 1).sum())
    assert multi > 0 and stats.multiple_exposures == multi
    assert sum(a.units for a in stats.arms) + multi == unit.nunique()


def test_segments_are_summed_per_arm_and_overall() -> None:
    pred, out = _log(3, 60, 2, 2)
    dim = Dimension.parse("features->>'region'", list(pred.columns), max_segments=2)
    stats = sufficient_statistics(_connect(pred, out), "credit", METRICS, start=START,
                                  as_of=AS_OF, dimension=dim)  # fmt: skip
    names = {s.segment for s in stats.segments}
    assert len(names) == 3 and "(other)" in names
    for arm in stats.arms:
        parts = [s for s in stats.segments if s.arm == arm.arm]
        assert sum(s.units for s in parts) == arm.units
        for m in METRICS:
            total = sum(s.metrics[m.name].sum for s in parts)
            assert total == pytest.approx(arm.metrics[m.name].sum)


def test_old_logs_without_shadow_and_error_columns_work() -> None:
    pred, out = _log(5, 30, 2, 2)
    old = pred.drop(columns=["shadow"])
    error_rate = BUILTIN_METRICS["error_rate"]
    stats = sufficient_statistics(_connect(old, out), "credit", [error_rate], start=START,
                                  as_of=AS_OF)  # fmt: skip
    assert all(a.metrics["error_rate"].sum == 0 for a in stats.arms)
    assert sum(a.units for a in stats.arms) > 0


def test_outcomes_by_entity_label_the_latest_earlier_prediction() -> None:
    t = (
        pd.to_datetime(["2026-03-02", "2026-03-04"])
        .tz_localize("UTC")
        .astype("datetime64[us, UTC]")
    )
    pred = pd.DataFrame({
        "prediction_id": ["p1", "p2"], "time": t, "deployment": "credit", "strategy": "ab",
        "arm": ["a", "b"], "unit_id": ["u1", "u2"], "score": 0.2, "decision": "approve",
        "latency_ms": 1.0, "entity": ['{"customer_id":1}', '{"customer_id":1}'],
    })  # fmt: skip
    out = pd.DataFrame({
        "prediction_id": [None], "entity": ['{"customer_id":1}'],
        "event_time": _utc(["2026-03-05"]),
        "deployment": [None], "label": [1.0],
        "observed_at": _utc(["2026-03-06"]),
    })  # fmt: skip
    out["prediction_id"] = out["prediction_id"].astype(object)
    metric = Metric("defaulted", "proportion", "label > 0")
    stats = sufficient_statistics(_connect(pred, out), "credit", [metric], start=START,
                                  as_of=AS_OF)  # fmt: skip
    got = {a.arm: (a.metrics["defaulted"].n, a.metrics["defaulted"].sum) for a in stats.arms}
    assert got == {"a": (0, 0.0), "b": (1, 1.0)}


def test_a_bad_metric_expression_names_the_metric() -> None:
    pred, out = _log(1, 10, 1, 2)
    broken = Metric("broken", "mean", "no_such_column + 1")
    with pytest.raises(DataError, match="Metric 'broken'.*no_such_column"):
        sufficient_statistics(_connect(pred, out), "credit", [broken], start=START, as_of=AS_OF)


def test_positive_comes_from_the_log_and_old_rows_read_it_from_their_decision() -> None:
    """Rows logged with ``positive`` use it whatever the decision is called; rows logged before
    the column existed (null, or no column at all) were 0.1's credit decisions."""
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE log AS SELECT * FROM (VALUES "
        "('p1', TIMESTAMPTZ '2026-03-02', 'd', 'a', 'u1', 'follow_up', TRUE), "
        "('p2', TIMESTAMPTZ '2026-03-02', 'd', 'a', 'u2', 'skip', FALSE), "
        "('p3', TIMESTAMPTZ '2026-03-02', 'd', 'a', 'u3', 'decline', NULL), "
        "('p4', TIMESTAMPTZ '2026-03-02', 'd', 'a', 'u4', 'approve', NULL)) "
        "t(prediction_id, time, deployment, arm, unit_id, decision, positive)"
    )
    con.execute("CREATE VIEW predictions AS SELECT * FROM log")
    con.execute(
        "CREATE VIEW outcomes AS SELECT NULL::VARCHAR AS prediction_id, NULL::VARCHAR AS entity, "
        "NULL::TIMESTAMPTZ AS event_time, NULL AS deployment, NULL::DOUBLE AS label, "
        "NULL::TIMESTAMPTZ AS observed_at WHERE false"
    )
    metrics = [BUILTIN_METRICS["positive_rate"], BUILTIN_METRICS["negative_rate"]]
    stats = sufficient_statistics(con, "d", metrics, start=START, as_of=AS_OF)
    (arm,) = stats.arms
    assert arm.metrics["positive_rate"].sum == 2  # p1 (follow_up) and p3 (an old decline)
    assert arm.metrics["negative_rate"].sum == 2  # p2 (skip) and p4 (an old approve)
    con.execute("CREATE OR REPLACE VIEW predictions AS SELECT * EXCLUDE (positive) FROM log "
                "WHERE decision IN ('decline', 'approve')")  # fmt: skip
    stats = sufficient_statistics(con, "d", metrics, start=START, as_of=AS_OF)
    assert stats.arms[0].metrics["positive_rate"].sum == 1  # a 0.1 log: no positive column
