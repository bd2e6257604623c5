"""A brute-force reference for point-in-time joins and windowed aggregations (DESIGN §3.1-§3.2).

Everything here is plain Python loops over every source row for every entity row, written to
be read against the design text rather than to be fast. The store's answers are compared with
these, value for value.

Sections: the data model (:class:`SourceRow`, :class:`Query`), the reference semantics
(:func:`snapshot_value`, :func:`window_value`), encoding rows as a Parquet source and an entity
frame, and the comparison of a returned frame with expected values.

Example
-------
>>> rows = [SourceRow(("a",), 10, 10, {"x": 1.0}), SourceRow(("a",), 20, 25, {"x": 2.0})]
>>> [snapshot_value(rows, Query(("a",), t), "x") for t in (10, 11, 21, 25)]
[None, 1.0, 1.0, 2.0]
>>> window_value(rows, Query(("a",), 30), "x", "sum", window_us=25, hop_us=10)
3.0
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

Key = tuple[Any, ...]
Order = tuple[int, int, int]

EVENT_COLUMN = "event_timestamp"
CREATED_COLUMN = "created_timestamp"
TIMESTAMP_TYPE = pa.timestamp("us", tz="UTC")

SECOND = 1_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
T0 = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp()) * SECOND
"""A day-aligned origin (2024-01-01 UTC) in epoch microseconds; test times are offsets from it."""


# --- data model ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceRow:
    """One row of a source file; its ingestion sequence is its position in the file.

    ``created_us`` is ignored when the source has no created column.
    """

    key: Key
    event_us: int
    created_us: int | None
    values: Mapping[str, Any]


@dataclass(frozen=True)
class Query:
    """One entity row: the join key values and the time ``t`` the features are asked at."""

    key: Key
    t_us: int


# --- reference semantics ---------------------------------------------------------------------


def is_missing(value: Any) -> bool:
    """Whether ``value`` is missing: None, pandas NA or a float NaN."""
    if value is None or value is pd.NA:
        return True
    return isinstance(value, float) and math.isnan(value)


def visible(row: SourceRow, t_us: int, *, ttl_us: int | None, has_created: bool) -> bool:
    """§3.1: ``event_ts < t``, ``created_ts <= t`` and, with a TTL, ``event_ts >= t - ttl``."""
    if not row.event_us < t_us:
        return False
    if has_created and row.created_us is not None and not row.created_us <= t_us:
        return False
    return ttl_us is None or row.event_us >= t_us - ttl_us


def row_order(row: SourceRow, seq: int, *, has_created: bool) -> Order:
    """``(event_ts, created_ts, seq)``; without a created column it plays no part."""
    created = row.created_us if has_created and row.created_us is not None else row.event_us
    return (row.event_us, created, seq)


def snapshot_value(
    rows: Sequence[SourceRow],
    query: Query,
    column: str,
    *,
    ttl_us: int | None = None,
    has_created: bool = True,
) -> Any:
    """The value of ``column`` in the winning visible row for the query's key, else None.

    The winner is a whole row: if its value is missing the result is missing too (no fallback
    to an older row).
    """
    best: SourceRow | None = None
    best_order: Order | None = None
    for seq, row in enumerate(rows):
        if row.key != query.key:
            continue
        if not visible(row, query.t_us, ttl_us=ttl_us, has_created=has_created):
            continue
        order = row_order(row, seq, has_created=has_created)
        if best_order is None or order > best_order:
            best, best_order = row, order
    if best is None:
        return None
    value = best.values[column]
    return None if is_missing(value) else value


def floor_us(t_us: int, hop_us: int) -> int:
    """``t`` rounded down to a multiple of ``hop`` counted from the Unix epoch."""
    return (t_us // hop_us) * hop_us


def window_start(t_us: int, *, window_us: int, hop_us: int) -> int:
    """§3.2: the first event time counted at ``t`` (``floor(t, hop) - window``; exact if hop 0)."""
    return (t_us if hop_us == 0 else floor_us(t_us, hop_us)) - window_us


def window_events(
    rows: Sequence[SourceRow],
    query: Query,
    column: str,
    *,
    window_us: int,
    hop_us: int,
    has_created: bool = True,
) -> list[tuple[Any, Order]]:
    """Non-missing ``(value, order)`` of the events counted at the query's time."""
    start = window_start(query.t_us, window_us=window_us, hop_us=hop_us)
    events: list[tuple[Any, Order]] = []
    for seq, row in enumerate(rows):
        if row.key != query.key:
            continue
        if not start <= row.event_us < query.t_us:
            continue
        if has_created and row.created_us is not None and row.created_us > query.t_us:
            continue
        value = row.values[column]
        if is_missing(value):
            continue
        events.append((value, row_order(row, seq, has_created=has_created)))
    return events


def aggregate(function: str, events: Sequence[tuple[Any, Order]]) -> Any:
    """The value of ``function`` over the (already filtered) events."""
    values = [v for v, _ in events]
    n = len(values)
    if function == "count":
        return n
    if function == "sum":
        if all(isinstance(v, int) for v in values):
            return sum(values)
        return math.fsum(values)
    if function == "mean":
        return None if n == 0 else math.fsum(values) / n
    if function == "min":
        return None if n == 0 else min(values)
    if function == "max":
        return None if n == 0 else max(values)
    if function == "last":
        if n == 0:
            return None
        best_value, best_order = events[0]
        for value, order in events[1:]:
            if order > best_order:
                best_value, best_order = value, order
        return best_value
    if function in ("var", "std"):
        if n < 2:
            return None
        mean = math.fsum(values) / n
        var = math.fsum((v - mean) ** 2 for v in values) / (n - 1)
        return var if function == "var" else math.sqrt(var)
    raise ValueError(f"unknown aggregate function {function!r}")


def window_value(
    rows: Sequence[SourceRow],
    query: Query,
    column: str,
    function: str,
    *,
    window_us: int,
    hop_us: int,
    has_created: bool = True,
) -> Any:
    """The value of ``function(column)`` over the window at the query's time."""
    events = window_events(
        rows, query, column, window_us=window_us, hop_us=hop_us, has_created=has_created
    )
    return aggregate(function, events)


# --- encoding --------------------------------------------------------------------------------


def write_source(
    path: Path,
    rows: Sequence[SourceRow],
    *,
    keys: Sequence[tuple[str, pa.DataType]],
    values: Sequence[tuple[str, pa.DataType]],
    has_created: bool = True,
) -> None:
    """Write ``rows`` in order to a Parquet file (timestamps as ``timestamp[us, tz=UTC]``)."""
    columns: dict[str, pa.Array] = {}
    for i, (name, dtype) in enumerate(keys):
        columns[name] = pa.array([r.key[i] for r in rows], type=dtype)
    columns[EVENT_COLUMN] = pa.array([r.event_us for r in rows], type=pa.int64()).cast(
        TIMESTAMP_TYPE
    )
    if has_created:
        created = [r.event_us if r.created_us is None else r.created_us for r in rows]
        columns[CREATED_COLUMN] = pa.array(created, type=pa.int64()).cast(TIMESTAMP_TYPE)
    for name, dtype in values:
        columns[name] = pa.array([r.values[name] for r in rows], type=dtype, from_pandas=False)
    pq.write_table(pa.table(columns), path)


def to_timestamps(times_us: Sequence[int]) -> pd.Series:
    """Epoch microseconds as a tz-aware UTC pandas Series."""
    return pd.Series(pd.to_datetime(list(times_us), unit="us", utc=True))


def entity_frame(
    queries: Sequence[Query],
    key_names: Sequence[str],
    *,
    extra: Mapping[str, Sequence[Any]] | None = None,
) -> pd.DataFrame:
    """The entity rows of ``queries``: key columns, ``event_timestamp``, then ``extra``."""
    data: dict[str, Any] = {}
    for i, name in enumerate(key_names):
        data[name] = [q.key[i] for q in queries]
    data[EVENT_COLUMN] = to_timestamps([q.t_us for q in queries])
    for name, column in (extra or {}).items():
        data[name] = list(column)
    return pd.DataFrame(data)


# --- comparison ------------------------------------------------------------------------------


def _same(actual: Any, expected: Any, rel: float) -> bool:
    if is_missing(expected):
        return is_missing(actual)
    if is_missing(actual):
        return False
    if isinstance(expected, float) and rel > 0:
        return math.isclose(float(actual), expected, rel_tol=rel, abs_tol=1e-12)
    return bool(actual == expected)


def assert_values(
    actual: pd.Series,
    expected: Sequence[Any],
    *,
    rel: float = 0.0,
    label: str = "",
    context: Sequence[str] = (),
) -> None:
    """Assert ``actual[i]`` equals ``expected[i]`` for every row (missing aligned with None).

    Floats are compared exactly unless ``rel`` is given; ``context`` describes each row for the
    failure message.
    """
    got = actual.tolist()
    assert len(got) == len(expected), f"{label}: {len(got)} rows, expected {len(expected)}"
    bad = [i for i, (a, e) in enumerate(zip(got, expected, strict=True)) if not _same(a, e, rel)]
    if bad:
        lines = [
            f"  row {i}: got {got[i]!r}, expected {expected[i]!r}"
            + (f"  [{context[i]}]" if context else "")
            for i in bad[:10]
        ]
        raise AssertionError(f"{label}: {len(bad)} of {len(got)} rows differ\n" + "\n".join(lines))


def assert_frame(
    actual: pd.DataFrame,
    entity_df: pd.DataFrame,
    expected: Mapping[str, Sequence[Any]],
    *,
    rel: float = 0.0,
    context: Sequence[str] = (),
) -> None:
    """Assert the training frame is the entity rows, unchanged and in order, plus ``expected``.

    Columns must be the entity columns then the expected features, in that order.
    """
    want = [*entity_df.columns, *expected]
    assert list(actual.columns) == want, f"columns {list(actual.columns)}, expected {want}"
    assert len(actual) == len(entity_df), f"{len(actual)} rows, expected {len(entity_df)}"
    for name in entity_df.columns:
        assert actual[name].tolist() == entity_df[name].tolist(), (
            f"entity column {name!r} changed:\n{actual[name].tolist()}\n"
            f"expected\n{entity_df[name].tolist()}"
        )
    for name, values in expected.items():
        assert_values(actual[name], values, rel=rel, label=name, context=context)


def describe(query: Query) -> str:
    """A readable description of a query (key and time as seconds after :data:`T0`)."""
    return f"key={query.key} t=T0{(query.t_us - T0) / SECOND:+.6f}s"


def describe_rows(rows: Sequence[SourceRow]) -> str:
    """Rows in file order, times as seconds after :data:`T0`, one per line."""

    def secs(us: int | None) -> str:
        return "None" if us is None else f"{(us - T0) / SECOND:+g}s"

    return "\n".join(
        f"  seq {i}: key={r.key} event={secs(r.event_us)} created={secs(r.created_us)} "
        f"{dict(r.values)}"
        for i, r in enumerate(rows)
    )
