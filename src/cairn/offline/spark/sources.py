"""Sources as Spark DataFrames, with Cairn's internal time columns.

Each source becomes a DataFrame of its own columns plus ``__ev``, ``__cr`` and ``__seq``
(microseconds of the event and created times, ingestion order), exactly as the DuckDB engine's
:func:`cairn.offline.sources.register_source` defines them:

* Parquet: the files Cairn lists (:func:`cairn.offline.sources.parquet_files`, name order), each
  read by Spark; ``__seq`` is ``file index << 40`` plus the row's index in its file;
* Delta: the data files of the table's current version as deltalake lists them (never a scan of
  the folder, which would also read removed files), in the same way;
* CSV: read by Cairn's CSV reader (empty fields are null) and handed to Spark as Arrow.

Column types and timestamp checks come from the DuckDB relation of the same source (already
checked by :meth:`cairn.offline.OfflineEngine.prepare`), so both engines accept the same sources.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import reduce
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

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
        files: list[tuple[str, str | None]]
        if file_format == "delta":
            files = [(uri, None) for uri in delta_files(path)]
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


def delta_files(path: Path) -> list[str]:
    """The data files of a Delta table's current version, as deltalake lists them."""
    from deltalake import DeltaTable

    table = DeltaTable(str(path))
    if table.metadata().partition_columns:
        raise SourceError(
            f"Delta table {path}: partitioned tables are not read by the Spark engine yet "
            f"(partition values live in the log, not the files); use offline.engine: duckdb."
        )
    return [str(uri) for uri in table.file_uris()]


def _files_frame(spark: SparkSession, files: Sequence[tuple[str, str | None]]) -> DataFrame:
    """The files' rows, in file order, with ``__seq`` (and ``__file`` when the files are given
    by path: Parquet)."""
    frames = []
    for i, (uri, name) in enumerate(files):
        columns = ["*", f"(CAST({i} AS BIGINT) << {FILE_SHIFT}) + _metadata.row_index AS __seq"]
        if name is not None:
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
