"""A window of the prediction log: where it ends, typed inputs, primary rows, segments."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cairn.core.errors import ConfigError, DataError
from cairn.core.predictions import Outcome, PredictionRecord
from cairn.core.timeutil import to_micros
from cairn.monitoring.window import SEGMENT, Window, read_window, resolve_window
from cairn.serving.log_records import OUTCOME_SCHEMA, PREDICTION_SCHEMA, outcome_row, prediction_row

T0 = to_micros(datetime(2026, 10, 1, tzinfo=UTC))
HOUR = 3_600_000_000
DAY = 24 * HOUR


def record(
    i: int, time: int, features: dict[str, Any], score: float = 0.5, **kw: Any
) -> PredictionRecord:
    """One logged prediction of deployment ``credit`` by credit-default v1."""
    values: dict[str, Any] = {
        "prediction_id": f"p{i}",
        "time": time,
        "deployment": "credit",
        "model_name": "credit-default",
        "model_version": "1",
        "entity": {"customer_id": i},
        "features": features,
        "score": score,
        "decision": "decline" if score >= 0.5 else "approve",
        "latency_ms": 1.0,
    }
    values.update(kw)
    return PredictionRecord(**values)


def log_table(records: Sequence[PredictionRecord], *, columns: Sequence[str] = ()) -> pa.Table:
    """Records as a prediction log table (without ``columns``: an older log's layout)."""
    table = pa.Table.from_pylist([prediction_row(r) for r in records], schema=PREDICTION_SCHEMA)
    return table.drop_columns([c for c in columns if c in table.column_names])


def outcome_table(outcomes: Sequence[Outcome]) -> pa.Table:
    """Outcomes as an outcome log table."""
    return pa.Table.from_pylist([outcome_row(o) for o in outcomes], schema=OUTCOME_SCHEMA)


def connection(
    predictions: pa.Table, outcomes: pa.Table | None = None
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with ``predictions`` and ``outcomes`` views, as the app gives."""
    con = duckdb.connect()
    con.register("predictions", predictions)
    con.register("outcomes", outcomes if outcomes is not None else outcome_table([]))
    return con


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    records = [
        record(0, T0 + 1 * HOUR, {"income": 10, "job": "fixed", "flag": True}),
        record(1, T0 + 2 * HOUR, {"income": "n/a", "job": None, "flag": False}),
        record(2, T0 + 3 * HOUR, {"income": 2.5e3, "job": 7}, arm="canary"),
        record(
            3, T0 + 4 * HOUR, {"income": 30}, shadow=True, arm="shadow:credit-default@challenger"
        ),
        record(4, T0 + 30 * HOUR, {"income": 40}, deployment="other"),
    ]
    return connection(log_table(records))


def test_an_explicit_as_of_ends_the_window_there(con: duckdb.DuckDBPyConnection) -> None:
    w = resolve_window(con, "credit", width=DAY, as_of=T0 + 5 * HOUR)
    assert (w.start, w.end, w.anchor) == (T0 + 5 * HOUR - DAY, T0 + 5 * HOUR, "as_of")
    assert w.describe() == "[2026-09-30T05:00:00Z, 2026-10-01T05:00:00Z) (24h)"


def test_without_as_of_a_log_that_ended_anchors_at_its_last_prediction(
    con: duckdb.DuckDBPyConnection,
) -> None:
    w = resolve_window(con, "credit", width=DAY, now=T0 + 10 * DAY)
    # the shadow row at +4h is not traffic: the last primary prediction is at +3h
    assert (w.end, w.anchor) == (T0 + 3 * HOUR + 1, "last_prediction")
    assert "ending at the last prediction (the log ends before now)" in w.describe()
    live = resolve_window(con, "credit", width=DAY, now=T0 + 3 * HOUR)
    assert (live.end, live.anchor) == (T0 + 3 * HOUR, "now")
    never = resolve_window(con, "nobody", width=DAY, now=T0)
    assert never.anchor == "empty" and "nothing was ever logged for 'nobody'" in never.describe()


def test_a_window_must_have_a_length(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(ConfigError, match="longer than 0"):
        resolve_window(con, "credit", width=0, as_of=T0)


def test_inputs_are_typed_as_the_profile_says_and_shadow_rows_are_left_out(
    con: duckdb.DuckDBPyConnection,
) -> None:
    w = Window("credit", T0, T0 + DAY, T0 + DAY, "as_of")
    kinds = {"income": "numeric", "job": "categorical", "flag": "numeric", "absent": "numeric"}
    table = read_window(con, w, kinds)  # type: ignore[arg-type]
    assert table.column_names == [
        "prediction_id", "time", "model_name", "model_version", "score",
        "income", "job", "flag", "absent",
    ]  # fmt: skip
    assert table.column("prediction_id").to_pylist() == ["p0", "p1", "p2"]  # p3 is a shadow row
    assert table.column("income").to_pylist() == [10.0, None, 2500.0]  # "n/a" is not a number
    assert table.column("job").to_pylist() == ["fixed", None, "7"]
    assert table.column("flag").to_pylist() == [1.0, 0.0, None]  # JSON booleans as 0/1
    assert table.column("absent").null_count == 3
    assert table.schema.field("income").type == pa.float64()
    assert table.column("time").to_pylist()[0] == T0 + HOUR


def test_a_log_without_a_shadow_column_counts_every_row() -> None:
    rows = [record(0, T0, {"x": 1}), record(1, T0 + 1, {"x": 2})]
    con = connection(log_table(rows, columns=["shadow", "error", "seed", "exposed"]))
    w = Window("credit", T0, T0 + DAY, T0 + DAY, "as_of")
    assert read_window(con, w, {"x": "numeric"}).num_rows == 2


def test_segments_come_from_a_log_column_an_input_or_an_entity_key(
    con: duckdb.DuckDBPyConnection,
) -> None:
    w = Window("credit", T0, T0 + DAY, T0 + DAY, "as_of")
    by = {name: read_window(con, w, {}, segment=name).column(SEGMENT).to_pylist()
          for name in ("arm", "job", "customer_id")}  # fmt: skip
    assert by == {
        "arm": ["main", "main", "canary"],
        "job": ["fixed", "(missing)", "7"],
        "customer_id": ["0", "1", "2"],
    }
    with pytest.raises(DataError, match="Segment column 'region' is not a log column"):
        read_window(con, w, {"income": "numeric"}, segment="region")


def test_the_log_can_be_a_parquet_glob(tmp_path: Path) -> None:
    pq.write_table(log_table([record(0, T0, {"x": 1.5})]), tmp_path / "a.parquet")
    con = duckdb.connect()
    glob = str(tmp_path / "*.parquet")
    w = resolve_window(con, "credit", width=DAY, now=T0 + DAY, relation=glob)
    assert read_window(con, w, {"x": "numeric"}, relation=glob).column("x").to_pylist() == [1.5]
    with pytest.raises(ConfigError, match="relation name"):
        read_window(con, w, {}, relation="predictions; DROP TABLE x")


def test_inputs_differing_only_in_case_are_both_read() -> None:
    rows = [record(0, T0, {"Income": 1, "income": 2, "it's": "x"})]
    w = Window("credit", T0, T0 + DAY, T0 + DAY, "as_of")
    kinds = {"Income": "numeric", "income": "numeric", "it's": "categorical"}
    table = read_window(connection(log_table(rows)), w, kinds)  # type: ignore[arg-type]
    assert table.select(["Income", "income", "it's"]).to_pylist() == [
        {"Income": 1.0, "income": 2.0, "it's": "x"}
    ]
