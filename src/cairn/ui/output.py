"""Machine-readable output of results: JSON, CSV and Parquet, for scripts and notebooks.

Results become JSON through their own ``to_dict()`` where they have one (:func:`jsonable`).
Rows (a list of flat mappings) are written as CSV or Parquet with nested values (lists,
objects) as JSON text, so a file read back equals the JSON rows column by column.
"""

from __future__ import annotations

import csv
import dataclasses
import enum
import io
import json
import math
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import PurePath
from typing import Any

__all__ = ["csv_text", "flat_rows", "json_text", "jsonable", "write_rows"]


def jsonable(value: Any) -> Any:
    """``value`` as JSON-ready data: ``to_dict()`` where the object has one, dataclasses as
    dicts, times as ISO text, durations as seconds, non-finite floats as None.

    Example
    -------
    >>> from datetime import UTC, datetime
    >>> jsonable({"at": datetime(2026, 3, 1, tzinfo=UTC), "x": (1.5, float("nan"))})
    {'at': '2026-03-01T00:00:00+00:00', 'x': [1.5, None]}
    """
    if value is None or isinstance(value, (bool, int, str)):
        return value.value if isinstance(value, enum.Enum) else value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if hasattr(value, "to_dict") and not isinstance(value, type):
        return jsonable(value.to_dict())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return jsonable(float(value))
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if hasattr(value, "item"):  # numpy scalars
        return jsonable(value.item())
    return str(value)


def json_text(value: Any) -> str:
    """``value`` (see :func:`jsonable`) as indented JSON text."""
    return json.dumps(jsonable(value), indent=2, ensure_ascii=False)


def flat_rows(rows: Sequence[Mapping[str, Any]]) -> tuple[list[str], list[dict[str, Any]]]:
    """The columns (in order of first appearance) and the rows with scalar cells: nested
    values become JSON text.

    Example
    -------
    >>> flat_rows([{"a": 1, "b": {"x": 2}}, {"a": 3, "c": None}])
    (['a', 'b', 'c'], [{'a': 1, 'b': '{"x": 2}', 'c': None}, {'a': 3, 'b': None, 'c': None}])
    """
    plain = [jsonable(dict(row)) for row in rows]
    columns = list(dict.fromkeys(k for row in plain for k in row))
    out = [
        {c: _cell(row.get(c)) for c in columns}
        for row in plain  # every row has every column
    ]
    return columns, out


def _cell(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=False)
    return value


def csv_text(rows: Sequence[Mapping[str, Any]]) -> str:
    """The rows as CSV text (a header line, then one line per row; nulls are empty)."""
    columns, flat = flat_rows(rows)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(flat)
    return buffer.getvalue()


def write_rows(rows: Sequence[Mapping[str, Any]], path: PurePath | str, fmt: str) -> int:
    """Write the rows to ``path`` as ``csv``, ``parquet`` or ``json``; returns how many."""
    target = str(path)
    if fmt == "json":
        with open(target, "w", encoding="utf-8") as f:
            f.write(json_text(list(rows)) + "\n")
    elif fmt == "csv":
        with open(target, "w", encoding="utf-8", newline="") as f:
            f.write(csv_text(rows))
    elif fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        columns, flat = flat_rows(rows)
        arrays = {c: _arrow_column([r[c] for r in flat]) for c in columns}
        pq.write_table(pa.table(arrays) if columns else pa.table({}), target)
    else:
        raise ValueError(f"format must be json, csv or parquet; got {fmt!r}.")
    return len(rows)


def _arrow_column(values: list[Any]) -> Any:
    """One column as Arrow; a column mixing kinds (text and numbers) is written as text."""
    import pyarrow as pa

    kinds = {type(v) for v in values if v is not None}
    if kinds <= {int, float} or len(kinds) <= 1:
        try:
            return pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            pass
    return pa.array([None if v is None else str(v) for v in values], type=pa.string())
