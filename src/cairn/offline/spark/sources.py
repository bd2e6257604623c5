"""Sources as Spark DataFrames, with Cairn's internal time columns.

Each source becomes a DataFrame of its own columns plus ``__ev``, ``__cr`` and ``__seq``
(microseconds of the event and created times, ingestion order), exactly as the DuckDB engine's
:func:`cairn.offline.sources.register_source` defines them:

* Parquet: the files Cairn lists (:func:`cairn.offline.sources.parquet_files`, name order), each
  read by Spark; ``__seq`` is ``file index << 40`` plus the row's index in its file;
* Delta: the data files of the table's current version as deltalake lists them (never a scan of
  the folder, which would also read removed files), in that order; ``__seq`` numbers the rows
  0, 1, ... across them, as DuckDB numbers the table deltalake reads; a partitioned table's
  partition values, which live in its log and not in its files, are added to each file's rows
  as typed literals (:func:`delta_parts`);
* CSV: read by Cairn's CSV reader (empty fields are null) and handed to Spark as Arrow.

Column types and timestamp checks come from the DuckDB relation of the same source (already
checked by :meth:`cairn.offline.OfflineEngine.prepare`), so both engines accept the same sources.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import reduce
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import unquote

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from cairn.core.errors import SourceError
from cairn.offline.connection import is_aware
from cairn.offline.csv_reader import read_csv
from cairn.offline.sources import SourceRelation, parquet_files
from cairn.offline.spark.session import quiet

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

FILE_SHIFT = 40
"""``__seq`` of a row: ``file index << 40`` + row index (as the DuckDB engine numbers them)."""


def squote(name: str) -> str:
    """A Spark SQL identifier in backticks."""
    return "`" + name.replace("`", "``") + "`"


def source_frame(
    spark: SparkSession, relation: SourceRelation, root: Path, *, with_file: bool = False
) -> DataFrame:
    """The rows of ``relation``'s source with ``__ev``, ``__cr`` and ``__seq`` (and, with
    ``with_file``, ``__file``: a Parquet row's file path as the DuckDB engine gives it; null
    for CSV and Delta)."""
    source = relation.source
    path = source.resolve(root)
    file_format = source.format_at(root)
    own = [squote(c) for c in relation.columns]
    if file_format == "csv":
        times = [source.timestamp_field, source.created_timestamp_column]
        aware = pa.timestamp("us", tz="UTC")
        table = read_csv(path, types={name: aware for name in times if name is not None})
        table = table.append_column("__seq", pa.array(np.arange(table.num_rows, dtype=np.int64)))
        with quiet():
            base = spark.createDataFrame(table)
    else:
        if file_format == "delta":
            parts = delta_parts(path)
            if not parts:
                raise SourceError(f"Source {source.name!r}: no data files under {path}.")
            base = _delta_rows(spark, parts)
        else:
            files = [(f.resolve().as_uri(), str(f)) for f in parquet_files(path)]
            if not files:
                raise SourceError(f"Source {source.name!r}: no data files under {path}.")
            base = _files_frame(spark, files)
    ev = _micros(relation, source.timestamp_field)
    cr = ev
    if source.created_timestamp_column is not None:
        cr = _micros(relation, source.created_timestamp_column)
    internal = [f"{ev} AS __ev", f"{cr} AS __cr", "__seq"]
    if with_file:
        internal.append("__file" if "__file" in base.columns else "CAST(NULL AS STRING) AS __file")
    return base.selectExpr(*own, *internal)


class DeltaFile(NamedTuple):
    """One data file of a Delta table's current version."""

    uri: str
    values: tuple[str, ...]
    """Spark SQL of its partition columns (``literal AS column``); none when unpartitioned."""
    rows: int


def delta_files(path: Path) -> list[str]:
    """The data files of a Delta table's current version, as deltalake lists them."""
    return [part.uri for part in delta_parts(path)]


def delta_parts(path: Path) -> list[DeltaFile]:
    """The data files of a Delta table's current version, as deltalake lists them (the order
    the DuckDB engine reads them in), with their partition values typed as the table's schema
    says and their row counts."""
    from deltalake import DeltaTable

    table = DeltaTable(str(path))
    partitions = table.metadata().partition_columns
    types = {f.name: f.type for f in pa.schema(table.schema().to_arrow())}
    actions = pa.table(table.get_add_actions(flatten=True))
    counts = actions.column("num_records").to_pylist()
    logged = {
        unquote(rel): (
            tuple(actions.column(f"partition.{c}")[i].as_py() for c in partitions),
            counts[i],
        )
        for i, rel in enumerate(actions.column("path").to_pylist())
    }
    root = str(path).rstrip("/") + "/"
    parts = []
    for uri in (str(u) for u in table.file_uris()):
        rel = unquote(uri.removeprefix("file://")).removeprefix(root)
        if rel not in logged:  # another spelling of the table's folder: match the file's tail
            rel = next((r for r in logged if uri.endswith("/" + r)), "")
        if rel not in logged:
            raise SourceError(f"Delta table {path}: file {uri} is not in the table's log.")
        values, rows = logged[rel]
        sql = tuple(
            f"{_literal(v, types[c], path, c)} AS {squote(c)}"
            for c, v in zip(partitions, values, strict=True)
        )
        count = rows if rows is not None else pq.read_metadata(uri).num_rows
        parts.append(DeltaFile(uri, sql, int(count)))
    return parts


def delta_frame(spark: SparkSession, path: Path) -> DataFrame:
    """A Delta table's current rows (its partition columns included) as one DataFrame."""
    parts = delta_parts(path)
    if not parts:
        raise SourceError(f"Delta table {path} has no data files.")
    frames = [spark.read.parquet(p.uri).selectExpr("*", *p.values) for p in parts]
    return reduce(lambda a, b: a.unionByName(b), frames)


def _delta_rows(spark: SparkSession, parts: Sequence[DeltaFile]) -> DataFrame:
    """A Delta table's rows with ``__seq`` numbered 0, 1, ... across its files in order, as
    the DuckDB engine numbers the table it reads through deltalake."""
    frames = []
    offset = 0
    for part in parts:
        seq = f"CAST({offset} AS BIGINT) + _metadata.row_index AS __seq"
        frames.append(spark.read.parquet(part.uri).selectExpr("*", *part.values, seq))
        offset += part.rows
    return reduce(lambda a, b: a.unionByName(b), frames)


_SPARK_TYPES = {
    pa.string(): "STRING",
    pa.large_string(): "STRING",
    pa.bool_(): "BOOLEAN",
    pa.int8(): "TINYINT",
    pa.int16(): "SMALLINT",
    pa.int32(): "INT",
    pa.int64(): "BIGINT",
    pa.float32(): "FLOAT",
    pa.float64(): "DOUBLE",
    pa.date32(): "DATE",
}


def _literal(value: object, kind: pa.DataType, path: Path, column: str) -> str:
    """A partition value as a typed Spark SQL literal."""
    sql_type = _SPARK_TYPES.get(kind)
    if sql_type is None:
        raise SourceError(
            f"Delta table {path}: partition column {column!r} is {kind}, which the Spark engine "
            f"does not read (strings, booleans, integers, floats and dates); use "
            f"offline.engine: duckdb."
        )
    if value is None:
        return f"CAST(NULL AS {sql_type})"
    if sql_type == "STRING":
        return string_literal(str(value))
    if sql_type == "BOOLEAN":
        return "TRUE" if value else "FALSE"
    return f"CAST({string_literal(str(value))} AS {sql_type})"  # dates as ISO, numbers as repr


def _files_frame(spark: SparkSession, files: Sequence[tuple[str, str]]) -> DataFrame:
    """A Parquet source's files' rows, in file order, with ``__seq`` and ``__file``."""
    frames = []
    for i, (uri, name) in enumerate(files):
        columns = ["*", f"(CAST({i} AS BIGINT) << {FILE_SHIFT}) + _metadata.row_index AS __seq"]
        columns.append(f"{string_literal(name)} AS __file")
        frames.append(spark.read.parquet(uri).selectExpr(*columns))
    return reduce(lambda a, b: a.unionByName(b), frames)


def string_literal(text: str) -> str:
    """A Spark SQL string literal (backslash escapes)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _micros(relation: SourceRelation, column: str) -> str:
    """Spark SQL for the microseconds since the epoch of a timestamp column, with the same
    reading of naive timestamps as the DuckDB engine (``FileSource(timezone=...)``)."""
    kind = relation.columns[column].upper()
    col = squote(column)
    if kind.endswith("_NS"):
        raise SourceError(
            f"Source {relation.source.name!r}: column {column!r} holds nanosecond timestamps "
            f"({kind}), which the Spark engine does not read; write microseconds or use "
            f"offline.engine: duckdb."
        )
    if is_aware(kind):
        return f"unix_micros({col})"
    zone = relation.source.timezone or "UTC"  # checked by the DuckDB relation: set when naive
    as_utc = f"CAST({col} AS TIMESTAMP)"  # the session computes in UTC
    if zone.upper() in ("UTC", "Z", "ETC/UTC"):
        return f"unix_micros({as_utc})"
    return f"unix_micros(to_utc_timestamp({as_utc}, '{zone.replace(chr(39), '')}'))"
