"""Maturity windows, labels known only once observed, completeness per arm, immature verdicts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
import pandas as pd
import pytest

from cairn.experiments.aggregate import MetricSums, sufficient_statistics
from cairn.experiments.analysis import analyze
from cairn.experiments.maturity import Completeness, immature_reason, maturity_cutoff
from cairn.experiments.metrics import Metric

START = datetime(2026, 3, 1, tzinfo=UTC)
AS_OF = datetime(2026, 4, 1, tzinfo=UTC)
WEEK = 7 * 86_400_000_000
DEFAULTED = Metric("defaulted", "proportion", "label > 0", maturity=WEEK)
US = timedelta(microseconds=1)


def _ts(values: list[datetime]) -> pd.Series:
    return pd.Series(pd.to_datetime(values, utc=True)).astype("datetime64[us, UTC]")


def _con(rows: list[tuple[str, str, datetime]], labels: list[tuple[str, float, datetime]]
         ) -> duckdb.DuckDBPyConnection:  # fmt: skip
    pred = pd.DataFrame(
        {
            "prediction_id": [r[0] for r in rows],
            "time": _ts([r[2] for r in rows]),
            "deployment": "credit",
            "strategy": "ab",
            "arm": [r[1] for r in rows],
            "unit_id": [f"u-{r[0]}" for r in rows],
            "entity": "{}",
            "decision": "approve",
            "score": 0.1,
        }
    )
    out = pd.DataFrame(
        {
            "prediction_id": [x[0] for x in labels],
            "entity": pd.Series([None] * len(labels), dtype=object),
            "event_time": _ts([START] * len(labels)),
            "deployment": "credit",
            "label": [x[1] for x in labels],
            "observed_at": _ts([x[2] for x in labels]),
        }
    )
    con = duckdb.connect()
    con.register("predictions", pred)
    con.register("outcomes", out)
    return con


def _sums(con: duckdb.DuckDBPyConnection, metric: Metric = DEFAULTED) -> dict[str, MetricSums]:
    stats = sufficient_statistics(con, "credit", [metric], start=START, as_of=AS_OF)
    return {a.arm: a.metrics[metric.name] for a in stats.arms}


def test_a_unit_exactly_at_the_window_is_mature_one_microsecond_later_is_not() -> None:
    edge = maturity_cutoff(AS_OF, DEFAULTED)
    assert edge == AS_OF - timedelta(days=7)
    rows = [("in", "a", edge), ("out", "a", edge + US), ("old", "a", START)]
    labels = [(pid, 1.0, AS_OF - timedelta(hours=1)) for pid in ("in", "out", "old")]
    sums = _sums(_con(rows, labels))["a"]
    assert (sums.n, sums.sum, sums.mature_units, sums.labeled_units) == (2, 2.0, 2, 2)


def test_outcomes_observed_after_as_of_are_ignored() -> None:
    rows = [("p1", "a", START), ("p2", "a", START), ("p3", "a", START)]
    labels = [
        ("p1", 1.0, AS_OF),  # observed exactly at as_of: known
        ("p2", 1.0, AS_OF + US),  # a microsecond later: not known yet
        ("p3", 0.0, START + timedelta(days=1)),
        ("p3", 1.0, AS_OF + timedelta(days=1)),  # a later correction, also not known yet
    ]
    sums = _sums(_con(rows, labels))["a"]
    assert (sums.n, sums.sum, sums.labeled_units, sums.mature_units) == (2, 1.0, 2, 3)


def test_the_latest_known_observation_wins() -> None:
    rows = [("p1", "a", START)]
    labels = [("p1", 0.0, START + timedelta(days=1)), ("p1", 1.0, START + timedelta(days=2))]
    assert _sums(_con(rows, labels))["a"].sum == 1.0


def test_completeness_is_reported_per_arm_and_gates_the_verdict() -> None:
    rows = [(f"a{i}", "control", START) for i in range(10)]
    rows += [(f"b{i}", "treatment", START) for i in range(10)]
    rows += [(f"c{i}", "treatment", AS_OF - timedelta(days=1)) for i in range(5)]  # immature
    labels = [(f"a{i}", float(i % 2), START + timedelta(days=3)) for i in range(10)]
    labels += [(f"b{i}", float(i % 3 == 0), START + timedelta(days=3)) for i in range(6)]
    result = analyze(_con(rows, labels), "credit", [DEFAULTED], as_of=AS_OF, start=START,
                     min_completeness=0.8)  # fmt: skip
    m = result.metric("defaulted")
    shares = {c.arm: (c.units, c.mature_units, c.labeled_units) for c in m.completeness}
    assert shares == {"control": (10, 10, 10), "treatment": (15, 10, 6)}
    assert m.status == "immature" and m.comparisons == []
    assert m.reason == (
        "immature: label completeness in arm treatment is 60% (6 of 10 mature units), below 80%"
    )
    lenient = analyze(_con(rows, labels), "credit", [DEFAULTED], as_of=AS_OF, start=START,
                      min_completeness=0.5)  # fmt: skip
    assert lenient.metric("defaulted").status == "ok"


def test_no_mature_unit_yet_says_so() -> None:
    rows = [("p1", "control", AS_OF - timedelta(days=1)), ("p2", "treatment", AS_OF)]
    result = analyze(_con(rows, []), "credit", [DEFAULTED], as_of=AS_OF, start=START)
    m = result.metric("defaulted")
    assert m.status == "immature"
    assert m.reason == "immature: arm control has no mature units (older than 7d) yet"


def test_a_metric_with_no_outcomes_at_all_is_immature_not_an_error() -> None:
    rows = [(f"p{i}", "control" if i % 2 else "treatment", START) for i in range(40)]
    result = analyze(_con(rows, []), "credit", [DEFAULTED], as_of=AS_OF, start=START)
    m = result.metric("defaulted")
    assert m.status == "immature" and "0% (0 of 20 mature units)" in (m.reason or "")


@pytest.mark.parametrize(
    ("arms", "expected"),
    [
        ([Completeness("a", 4, 4, 4), Completeness("b", 4, 4, 4)], None),
        ([Completeness("a", 4, 0, 0), Completeness("b", 4, 4, 4)], "arm a has no mature"),
        ([Completeness("a", 4, 4, 1), Completeness("b", 4, 4, 4)], "arm a is 25%"),
    ],
)
def test_immature_reason(arms: list[Completeness], expected: str | None) -> None:
    reason = immature_reason(DEFAULTED, arms, 0.8)
    assert reason is None if expected is None else expected in (reason or "")


def test_metrics_without_outcomes_need_only_mature_units() -> None:
    approvals = Metric("approved", "proportion", "decision = 'approve'")
    arms = [Completeness("a", 4, 4, 0), Completeness("b", 4, 4, 0)]
    assert immature_reason(approvals, arms, 0.8) is None
