"""Reading sources into DuckDB: one relation per source with Cairn's internal time columns.

Every source becomes a SQL relation with its own columns plus

* ``__ev``  event time, integer microseconds since the epoch (UTC);
* ``__cr``  created (known-at) time in microseconds; the event time when the source has none;
* ``__seq`` ingestion order: the row's position in its file (files in name order).

Parquet is scanned lazily by DuckDB (out of core); CSV (:func:`~cairn.offline.csv_reader.read_csv`:
empty fields are null) and Delta tables go through Arrow.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from cairn.core.errors import SourceError
from cairn.features.source import FileSource, Source, batch_of
from cairn.offline.connection import epoch_us, is_aware, literal, quote
from cairn.offline.csv_reader import read_csv


@dataclass(frozen=True)
class SourceVersion:
    """What exactly a source held when it was read: content hash or Delta version."""

    name: str
    path: str
    file_format: str
    sha256: str | None
    delta_version: int | None
    files: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for manifests."""
        return {
            "name": self.name,
            "path": self.path,
            "format": self.file_format,
            "sha256": self.sha256,
            "delta_version": self.delta_version,
            "files": self.files,
        }


@dataclass(frozen=True)
class SourceRelation:
    """A source registered in a connection: its view name and column types."""

    source: FileSource
    view: str
    columns: dict[str, str]
    """Source column -> DuckDB type, before Cairn's internal columns."""


def parquet_files(path: Path) -> list[Path]:
    """The Parquet files of a file or folder, in name order."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*.parquet") if p.is_file())
    return [path]


def register_source(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    root: Path,
    view: str,
    *,
    with_file: bool = False,
) -> SourceRelation:
    """Create the temporary view ``view`` over ``source`` (a push source: its offline log)
    with ``__ev``, ``__cr``, ``__seq`` (and, with ``with_file``, ``__file``: the absolute
    path of a Parquet row's file; null for CSV and Delta sources)."""
    source = batch_of(source)
    path = source.resolve(root)
    if not path.exists():
        raise SourceError(
            f"Source {source.name!r}: data not found at {path} "
            f"(path {source.path!r}, resolved against {root})."
        )
    try:
        base, seq = _base_relation(con, source, path, view, source.format_at(root))
        columns = {
            row[0]: row[1]
            for row in con.execute(f"DESCRIBE SELECT * FROM {base}").fetchall()
            if not row[0].startswith("__cairn") and row[0] != "file_row_number"
        }
    except duckdb.Error as exc:
        raise SourceError(f"Source {source.name!r}: cannot read {path}: {exc}") from None
    ev = _micros(source, source.timestamp_field, columns, "timestamp_field")
    cr = ev
    if source.created_timestamp_column is not None:
        cr = _micros(source, source.created_timestamp_column, columns, "created_timestamp_column")
    own = ", ".join(quote(c) for c in columns)
    file = ""
    if with_file:
        parquet = source.format_at(root) == "parquet"
        file = f", {'__cairn_file' if parquet else 'NULL::VARCHAR'} AS __file"
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {quote(view)} AS "
        f"SELECT {own}, {ev} AS __ev, {cr} AS __cr, {seq} AS __seq{file} FROM {base}"
    )
    return SourceRelation(source, view, columns)


def _base_relation(
    con: duckdb.DuckDBPyConnection, source: FileSource, path: Path, view: str, file_format: str
) -> tuple[str, str]:
    if file_format == "parquet":
        files = parquet_files(path)
        if not files:
            raise SourceError(f"Source {source.name!r}: no .parquet files under {path}.")
        listing = "[" + ", ".join(literal(str(f)) for f in files) + "]"
        # can_have_nan: Parquet min/max statistics leave NaN out; without it DuckDB may
        # prune `NOT isnan(x)` filters as always true (duckdb/duckdb#25521)
        base = (
            f"read_parquet({listing}, file_row_number=true, filename='__cairn_file', "
            "can_have_nan=true)"
        )
        if len(files) == 1:
            return base, "file_row_number"
        order = " ".join(f"WHEN {literal(str(f))} THEN {i}" for i, f in enumerate(files))
        return base, f"((CASE __cairn_file {order} END)::BIGINT << 40) + file_row_number"
    table = _arrow_table(file_format, path, source)
    table = table.append_column("__cairn_seq", pa.array(np.arange(table.num_rows, dtype=np.int64)))
    arrow_name = f"{view}__arrow"
    con.register(arrow_name, table)
    return quote(arrow_name), "__cairn_seq"


def _arrow_table(file_format: str, path: Path, source: FileSource) -> pa.Table:
    if file_format == "csv":
        times = [source.timestamp_field, source.created_timestamp_column]
        aware = pa.timestamp("us", tz="UTC")
        return read_csv(path, types={name: aware for name in times if name is not None})
    from deltalake import DeltaTable

    return DeltaTable(str(path)).to_pyarrow_table()


def _micros(source: FileSource, column: str, columns: dict[str, str], role: str) -> str:
    if column not in columns:
        raise SourceError(
            f"Source {source.name!r}: {role} {column!r} is not a column of {source.path}; "
            f"columns are {', '.join(columns)}."
        )
    kind = columns[column].upper()
    col = quote(column)
    if is_aware(kind):
        return epoch_us(col, kind)
    if kind.startswith("TIMESTAMP") or kind == "DATE":
        if source.timezone is None:
            raise SourceError(
                f"Source {source.name!r}: {role} {column!r} holds naive timestamps ({kind}); "
                f"expected timezone-aware UTC timestamps, or declare the zone of the files "
                f"with FileSource(..., timezone='UTC')."
            )
        if source.timezone.upper() in ("UTC", "Z", "ETC/UTC"):
            return epoch_us(col, kind)
        return f"epoch_us(timezone({literal(source.timezone)}, {col}::TIMESTAMP))"
    raise SourceError(
        f"Source {source.name!r}: {role} {column!r} must be a timestamp column; "
        f"got {columns[column]}."
    )


def zoned_columns(rel: SourceRelation) -> str:
    """The select list of a source's own columns for SQL over the sources (entity queries):
    its naive time columns carry the zone the source declares, as ``TIMESTAMPTZ``, so a query
    that selects them gets the same instants the feature reads use."""
    source = rel.source
    times = {source.timestamp_field, source.created_timestamp_column} - {None}
    items = []
    for name, kind in rel.columns.items():
        col = quote(name)
        naive = kind.upper().startswith("TIMESTAMP") or kind.upper() == "DATE"
        if name in times and source.timezone is not None and naive and not is_aware(kind):
            col = f"timezone({literal(source.timezone)}, {col}::TIMESTAMP) AS {col}"
        items.append(col)
    return ", ".join(items)


def source_version(source: FileSource, root: Path) -> SourceVersion:
    """The content version of a source: SHA-256 over its files, or its Delta table version."""
    path = source.resolve(root)
    file_format = source.format_at(root)
    if file_format == "delta":
        from deltalake import DeltaTable

        table = DeltaTable(str(path))
        return SourceVersion(
            source.name, str(path), "delta", None, table.version(), len(table.file_uris())
        )
    files = parquet_files(path) if file_format == "parquet" else [path]
    digest = hashlib.sha256()
    for f in files:
        digest.update(str(f.relative_to(path) if path.is_dir() else f.name).encode())
        with f.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
    return SourceVersion(source.name, str(path), file_format, digest.hexdigest(), None, len(files))
