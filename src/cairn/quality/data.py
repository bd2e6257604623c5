"""Binding data to DuckDB: a DataFrame, an Arrow table, or a Parquet, CSV or Delta path.

A :class:`BoundTable` says how to read the data in SQL, twice over: ``relation`` for the
aggregate query (Parquet is scanned lazily, out of core, reading only the columns the checks
use), and :meth:`BoundTable.rows` for the failing-row query, which adds ``__cairn_row``: the
row's 0-based position in the data (in file order across the files of a folder).

* pandas DataFrames and Arrow tables are scanned in place (no copy);
* objects with an Arrow stream (``__arrow_c_stream__``: polars, …) are read into Arrow;
* ``*.parquet`` files and folders of them are scanned by DuckDB, out of core;
* Delta tables (folders with ``_delta_log``) are scanned as Arrow datasets (delta-rs), out of
  core; ``*.csv`` files are read with Arrow by :func:`cairn.offline.csv_reader.read_csv`, the
  reader offline sources use too: an empty field is null, as in the same data as Parquet.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from cairn.core.errors import SourceError
from cairn.offline.csv_reader import read_csv
from cairn.quality.context import IntRange, quote

ROW = "__cairn_row"
_ids = itertools.count()


Ranges = Callable[[list[str]], dict[str, IntRange] | None]


@dataclass
class BoundTable:
    """Data registered in a connection: its label, columns, and SQL to read it."""

    label: str
    columns: dict[str, str]
    relation: str
    _rows: Callable[[], str]
    _ranges: Ranges | None = None

    def rows(self) -> str:
        """SQL (usable after FROM) of the data with ``__cairn_row``, its 0-based position."""
        return self._rows()

    def ranges(self, columns: list[str]) -> dict[str, IntRange] | None:
        """Bounds and null counts of integer columns without a query over the data (Parquet
        footer statistics, or the columns in memory); None when they are not known so."""
        return self._ranges(columns) if self._ranges is not None else None


def literal(text: str) -> str:
    """A SQL string literal (for file paths handed to table functions)."""
    return "'" + text.replace("'", "''") + "'"


def bind(con: duckdb.DuckDBPyConnection, data: Any, *, label: str | None = None) -> BoundTable:
    """Register ``data`` in ``con`` and describe it.

    Example
    -------
    >>> import duckdb, pandas as pd
    >>> table = bind(duckdb.connect(), pd.DataFrame({"a": [1, 2]}))
    >>> table.columns
    {'a': 'BIGINT'}
    """
    if isinstance(data, BoundTable):
        return data
    name = f"__cairn_data_{next(_ids)}"
    if isinstance(data, pd.DataFrame):
        return _frame(con, data, name, label or "DataFrame")
    if isinstance(data, pa.Table):
        return _arrow(con, data, name, label or "Arrow table")
    if isinstance(data, (str, Path)):
        return _path(con, Path(data), name, label)
    if hasattr(data, "__arrow_c_stream__"):
        return _arrow(con, pa.table(data), name, label or type(data).__name__)
    raise SourceError(
        f"data must be a pandas DataFrame, an Arrow table, an object with an Arrow stream "
        f"(polars, …) or a path to Parquet, CSV or Delta data; got {type(data).__name__}."
    )


def _describe(con: duckdb.DuckDBPyConnection, relation: str, label: str) -> dict[str, str]:
    try:
        rows = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    except duckdb.Error as exc:
        raise SourceError(f"Cannot read {label}: {exc}") from None
    columns = {str(r[0]): str(r[1]) for r in rows}
    reserved = [c for c in columns if c.startswith("__cairn")]
    if reserved:
        raise SourceError(
            f"{label}: column names starting with '__cairn' are reserved; got {reserved[0]!r}."
        )
    return columns


def _frame(con: duckdb.DuckDBPyConnection, df: pd.DataFrame, name: str, label: str) -> BoundTable:
    if not all(isinstance(c, str) for c in df.columns) or df.columns.has_duplicates:
        raise SourceError(
            f"{label}: column names must be distinct strings; got {list(df.columns)[:10]!r}."
        )
    con.register(name, df)

    def rows() -> str:
        numbered = df.copy(deep=False)
        numbered[ROW] = np.arange(len(df), dtype=np.int64)
        con.register(f"{name}_rows", numbered)
        return quote(f"{name}_rows")

    def ranges(columns: list[str]) -> dict[str, IntRange]:
        out = {}
        for c in columns:
            values = df[c]
            nulls = int(values.isna().sum())
            low, high = (values.min(), values.max()) if nulls < len(values) else (None, None)
            out[c] = IntRange(_int(low), _int(high), nulls)
        return out

    return BoundTable(label, _describe(con, quote(name), label), quote(name), rows, ranges)


def _int(value: Any) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def _arrow(con: duckdb.DuckDBPyConnection, table: pa.Table, name: str, label: str) -> BoundTable:
    con.register(name, table)

    def rows() -> str:
        numbered = table.append_column(ROW, pa.array(np.arange(table.num_rows, dtype=np.int64)))
        con.register(f"{name}_rows", numbered)
        return quote(f"{name}_rows")

    def ranges(columns: list[str]) -> dict[str, IntRange]:
        import pyarrow.compute as pc

        out = {}
        for c in columns:
            bounds = pc.min_max(table[c])
            low, high = bounds["min"].as_py(), bounds["max"].as_py()
            out[c] = IntRange(low, high, table[c].null_count)
        return out

    return BoundTable(label, _describe(con, quote(name), label), quote(name), rows, ranges)


def _path(con: duckdb.DuckDBPyConnection, path: Path, name: str, label: str | None) -> BoundTable:
    shown = label or str(path)
    if not path.exists():
        raise SourceError(f"No data at {path}: expected a Parquet, CSV or Delta path.")
    if path.is_dir() and (path / "_delta_log").is_dir():
        return _delta(con, path, name, shown)
    if path.is_file() and path.suffix.lower() in (".csv", ".tsv", ".txt"):
        return _arrow(con, read_csv(path), name, shown)
    files = sorted(p for p in path.rglob("*.parquet") if p.is_file()) if path.is_dir() else [path]
    if not files:
        raise SourceError(f"No .parquet files under {path} (and no _delta_log: not Delta).")
    return _parquet(con, files, shown)


def _parquet(con: duckdb.DuckDBPyConnection, files: list[Path], label: str) -> BoundTable:
    listing = "[" + ", ".join(literal(str(f)) for f in files) + "]"
    # can_have_nan: Parquet statistics leave NaN out; without it DuckDB may prune NaN tests
    relation = f"read_parquet({listing}, can_have_nan=true)"

    def rows() -> str:
        if len(files) == 1:
            scan = f"read_parquet({listing}, can_have_nan=true, file_row_number=true)"
            return f"(SELECT * EXCLUDE (file_row_number), file_row_number AS {ROW} FROM {scan})"
        scan = f"read_parquet({listing}, can_have_nan=true, file_row_number=true, filename=true)"
        own = "* EXCLUDE (file_row_number, filename)"
        offsets = np.cumsum([0] + [pq.read_metadata(f).num_rows for f in files[:-1]])
        case = " ".join(
            f"WHEN {literal(str(f))} THEN {int(o)}" for f, o in zip(files, offsets, strict=True)
        )
        return f"(SELECT {own}, file_row_number + (CASE filename {case} END) AS {ROW} FROM {scan})"

    def ranges(columns: list[str]) -> dict[str, IntRange] | None:
        return _footer_ranges(files, columns)

    return BoundTable(label, _describe(con, relation, label), relation, rows, ranges)


def _footer_ranges(files: list[Path], columns: list[str]) -> dict[str, IntRange] | None:
    """Integer bounds from Parquet footers (no data is read); None if a row group lacks them."""
    low: dict[str, int] = {}
    high: dict[str, int] = {}
    nulls = dict.fromkeys(columns, 0)
    counts = dict.fromkeys(columns, 0)
    for f in files:
        meta = pq.read_metadata(f)
        names = [meta.schema.column(i).path for i in range(meta.num_columns)]
        for g in range(meta.num_row_groups):
            group = meta.row_group(g)
            for c in columns:
                if c not in names:
                    return None
                stats = group.column(names.index(c)).statistics
                if stats is None or not stats.has_null_count:
                    return None
                nulls[c] += stats.null_count
                counts[c] += group.num_rows
                if group.num_rows > stats.null_count:
                    if not stats.has_min_max:
                        return None
                    low[c] = min(low.get(c, stats.min), stats.min)
                    high[c] = max(high.get(c, stats.max), stats.max)
    return {c: IntRange(low.get(c), high.get(c), nulls[c]) for c in columns}


def _delta(con: duckdb.DuckDBPyConnection, path: Path, name: str, label: str) -> BoundTable:
    from deltalake import DeltaTable

    try:
        dataset = DeltaTable(str(path)).to_pyarrow_dataset()
    except Exception as exc:  # delta-rs raises its own exception types
        raise SourceError(f"Cannot read the Delta table {path}: {exc}") from None
    con.register(name, dataset)

    def rows() -> str:
        schema = dataset.schema.append(pa.field(ROW, pa.int64()))

        def numbered() -> Iterator[pa.RecordBatch]:
            offset = 0
            for batch in dataset.to_batches(use_threads=False):
                index = pa.array(np.arange(offset, offset + batch.num_rows, dtype=np.int64))
                offset += batch.num_rows
                yield pa.RecordBatch.from_arrays([*batch.columns, index], schema=schema)

        con.register(f"{name}_rows", pa.RecordBatchReader.from_batches(schema, numbered()))
        return quote(f"{name}_rows")

    return BoundTable(label, _describe(con, quote(name), label), quote(name), rows)


def bind_sql(con: duckdb.DuckDBPyConnection, relation: str, rows: str, *, label: str) -> BoundTable:
    """Describe SQL relations already valid in ``con``: ``relation`` for the aggregate query and
    ``rows`` with a ``__cairn_row`` column (e.g. a source's ingestion order)."""
    columns = _describe(con, relation, label)
    return BoundTable(label, columns, relation, lambda: rows)
