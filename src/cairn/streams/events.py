"""Events <-> rows: what a stream source's events must hold, typed for the batch source.

The processor turns each event (a JSON object) into one typed row of the columns the source
lands: the event time, the join keys and aggregated columns of its views, and any fields its
``schema`` declares. Types come from the declared schema first, then from the views (a column
aggregated by a numeric function is float64), then from the first value seen. An event that
cannot be typed is not dropped silently: :class:`BadEvent` names why, and the processor writes
it to the dead-letter file with that reason.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pyarrow as pa

from cairn.core.errors import DataError
from cairn.core.types import Dtype
from cairn.features.aggregates import get_function
from cairn.features.feature_view import FeatureView
from cairn.features.stream_source import StreamSource

_PER_UNIT = {"s": 1_000_000, "ms": 1_000, "us": 1}
_ARROW = {
    Dtype.INT64: pa.int64(),
    Dtype.FLOAT64: pa.float64(),
    Dtype.STRING: pa.string(),
    Dtype.BOOL: pa.bool_(),
    Dtype.TIMESTAMP: pa.timestamp("us", tz="UTC"),
}


class BadEvent(ValueError):
    """An event the processor cannot use; the message is the dead-letter reason."""


def landed_columns(source: StreamSource, views: Iterable[FeatureView]) -> dict[str, Dtype | None]:
    """Column -> dtype of the rows landed for ``source`` (None: typed from the first value).

    Example
    -------
    >>> from cairn.features import Aggregation, Entity, LocalStreamSource
    >>> s = LocalStreamSource(name="txns")
    >>> v = FeatureView(name="v", entities=[Entity(name="c", join_keys=["cid"])], source=s,
    ...                 aggregations=[Aggregation("amount", "sum", "10m")])
    >>> landed_columns(s, [v])
    {'cid': None, 'amount': <Dtype.FLOAT64: 'float64'>}
    """
    out: dict[str, Dtype | None] = {}
    for view in views:
        for key in view.join_keys:
            out.setdefault(key, None)
        for agg in view.aggregations:
            numeric = get_function(agg.function).numeric_only
            if numeric:
                out[agg.column] = Dtype.FLOAT64
            else:
                out.setdefault(agg.column, None)
    for f in source.schema:
        out[f.name] = Dtype.parse(f.dtype)
    out.pop(source.batch.timestamp_field, None)
    return out


def infer_dtype(value: Any) -> Dtype | None:
    """The dtype a JSON value suggests (None for null)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return Dtype.BOOL
    if isinstance(value, int):
        return Dtype.INT64
    if isinstance(value, float):
        return Dtype.FLOAT64
    return Dtype.STRING


def event_time(value: Any, source: StreamSource, field: str | None = None) -> int:
    """A time field's value (the event time unless ``field`` names another) in µs since the
    epoch, or :class:`BadEvent`."""
    field = field or source.batch.timestamp_field
    if isinstance(value, bool) or value is None:
        raise BadEvent(f"{field!r} must be a timestamp; got {value!r}")
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise BadEvent(f"{field!r} must be a finite number; got {value!r}")
        return round(value * _PER_UNIT[source.timestamp_unit])
    if isinstance(value, str):
        try:
            ts = datetime.fromisoformat(value)
        except ValueError:
            raise BadEvent(
                f"{field!r} must be an ISO-8601 time or a number of {source.timestamp_unit} "
                f"since the epoch; got {value!r}"
            ) from None
        if ts.tzinfo is None:
            if source.timezone is None:
                raise BadEvent(
                    f"{field!r} {value!r} has no zone and the source declares no timezone"
                )
            ts = ts.replace(tzinfo=ZoneInfo(source.timezone))
        delta = ts - datetime(1970, 1, 1, tzinfo=ZoneInfo("UTC"))
        return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    raise BadEvent(f"{field!r} must be a timestamp; got {type(value).__name__}")


def typed(name: str, value: Any, dtype: Dtype) -> Any:
    """``value`` as a Python value of ``dtype`` (None stays None), or :class:`BadEvent`."""
    if value is None:
        return None
    if dtype is Dtype.FLOAT64:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif dtype is Dtype.INT64:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
    elif dtype is Dtype.STRING:
        if isinstance(value, str):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
    elif dtype is Dtype.BOOL:
        if isinstance(value, bool):
            return value
    raise BadEvent(f"{name!r} must be {dtype.value}; got {value!r}")


class RowBuilder:
    """Turns events into typed rows of the landed columns, fixing open dtypes on first sight."""

    def __init__(self, source: StreamSource, columns: Mapping[str, Dtype | None]) -> None:
        self.source = source
        self.dtypes: dict[str, Dtype | None] = dict(columns)

    def fix(self, existing: pa.Schema | None) -> None:
        """Take the dtypes of what already landed for every column the source's schema does
        not declare (files written before, e.g. history a batch source was seeded with)."""
        if existing is None:
            return
        declared = {f.name for f in self.source.schema}
        for name in list(self.dtypes):
            if name not in declared and name in existing.names:
                self.dtypes[name] = _dtype_of(existing.field(name).type)

    def row(self, value: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        """``(event time µs, {column: typed value})`` of one event, or :class:`BadEvent`."""
        ts = event_time(value.get(self.source.batch.timestamp_field), self.source)
        out: dict[str, Any] = {}
        for name, dtype in self.dtypes.items():
            v = value.get(name)
            kind = type(v)
            # the common cases first: a value already of its column's type
            if kind is float:
                if dtype is Dtype.FLOAT64:
                    out[name] = None if v != v else v  # NaN is missing
                    continue
                if v != v:
                    v = None
            elif (kind is int and dtype is Dtype.INT64) or (kind is str and dtype is Dtype.STRING):
                out[name] = v
                continue
            if dtype is None:
                dtype = infer_dtype(v)
                if dtype is None:
                    out[name] = None
                    continue
                self.dtypes[name] = dtype
            if dtype is Dtype.TIMESTAMP:  # µs since the epoch, like the event time
                out[name] = None if v is None else event_time(v, self.source, name)
                continue
            out[name] = typed(name, v, dtype)
        return ts, out

    def schema(self, created: str) -> pa.Schema:
        """The Arrow schema of landed rows (open dtypes land as strings)."""
        fields = [pa.field(self.source.batch.timestamp_field, _ARROW[Dtype.TIMESTAMP])]
        for name, dtype in self.dtypes.items():
            fields.append(pa.field(name, _ARROW[dtype or Dtype.STRING]))
        fields.append(pa.field(created, _ARROW[Dtype.TIMESTAMP]))
        return pa.schema(fields)

    def table(
        self, times: Sequence[int], rows: Sequence[Mapping[str, Any]], created_us: int
    ) -> pa.Table:
        """The landed rows as one Arrow table, created time ``created_us`` on every row."""
        columns = {name: [r.get(name) for r in rows] for name in self.dtypes}
        return self.columns_table(times, columns, created_us)

    def columns_table(
        self, times: Sequence[int], columns: Mapping[str, Sequence[Any]], created_us: int
    ) -> pa.Table:
        """:meth:`table` of rows given column by column (``columns[name][i]`` of row ``i``)."""
        created = self.source.batch.created_timestamp_column or "created_timestamp"
        schema = self.schema(created)
        columns_out: list[pa.Array] = [pa.array(times, type=pa.int64()).cast(schema.field(0).type)]
        for name, dtype in self.dtypes.items():
            kind = schema.field(name).type
            values = columns[name]
            if dtype is Dtype.TIMESTAMP:
                columns_out.append(pa.array(values, type=pa.int64()).cast(kind))
            else:
                columns_out.append(pa.array(values, type=kind))
        columns_out.append(
            pa.array([created_us] * len(times), type=pa.int64()).cast(_ARROW[Dtype.TIMESTAMP])
        )
        return pa.Table.from_arrays(columns_out, schema=schema)


def _dtype_of(kind: pa.DataType) -> Dtype:
    if pa.types.is_boolean(kind):
        return Dtype.BOOL
    if pa.types.is_integer(kind):
        return Dtype.INT64
    if pa.types.is_floating(kind):
        return Dtype.FLOAT64
    if pa.types.is_timestamp(kind):
        return Dtype.TIMESTAMP
    return Dtype.STRING


def event_values(
    source: StreamSource, rows: pd.DataFrame | pa.Table | Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Rows as JSON events: timestamps as ISO-8601 text in UTC, NaN as null."""
    if isinstance(rows, pa.Table):
        rows = rows.to_pandas()
    records: Iterable[Mapping[Any, Any]] = (
        rows.to_dict(orient="records") if isinstance(rows, pd.DataFrame) else rows
    )
    ts = source.batch.timestamp_field
    out: list[dict[str, Any]] = []
    for i, record in enumerate(records):
        if not isinstance(record, Mapping):
            raise DataError(
                f"Row {i} produced to {source.name!r} must be a mapping; got {record!r}."
            )
        if ts not in record:
            raise DataError(
                f"Row {i} produced to {source.name!r} lacks its event time {ts!r}; "
                f"got the fields {sorted(record)}."
            )
        out.append({k: _json_ready(v, k, source, i) for k, v in record.items()})
    return out


def _json_ready(value: Any, name: str, source: StreamSource, i: int) -> Any:
    if isinstance(value, (pd.Timestamp, datetime)):
        if value.tzinfo is None and source.timezone is not None:
            value = pd.Timestamp(value).tz_localize(source.timezone)
        if value.tzinfo is None:
            raise DataError(
                f"Row {i} produced to {source.name!r}: {name!r} must be timezone-aware; "
                f"got the naive time {value}."
            )
        return pd.Timestamp(value).tz_convert("UTC").isoformat()
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if value is pd.NaT:
        return None
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value
