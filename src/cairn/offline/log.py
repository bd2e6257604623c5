"""Appending rows to an offline log (a Delta table or a folder of Parquet files)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from cairn.core.errors import SourceError
from cairn.core.timeutil import to_micros, utcnow
from cairn.features.source import FileSource


def append_to_log(log: FileSource, root: Path, table: pa.Table) -> Path:
    """Append ``table`` durably to ``log``; returns the file or table written.

    Parquet folders get one new file per append, named so that name order is append order
    (the ingestion order the offline engine uses to break ties). Delta tables get one commit.
    """
    path = log.resolve(root)
    fmt = log.file_format or ("delta" if (path / "_delta_log").is_dir() else None)
    if fmt == "delta":
        from deltalake import write_deltalake

        try:
            write_deltalake(str(path), table, mode="append")
        except Exception as exc:  # delta-rs raises several types for schema mismatches
            raise SourceError(f"Cannot append to the Delta table {path}: {exc}") from None
        return path
    if path.suffix == ".parquet" or path.is_file():
        raise SourceError(
            f"Push log {log.name!r} must be a folder of Parquet files or a Delta table; "
            f"{path} is a file."
        )
    path.mkdir(parents=True, exist_ok=True)
    existing = sorted(path.glob("*.parquet"))
    if existing:
        schema = pq.read_schema(existing[-1])
        if not table.schema.equals(schema, check_metadata=False):
            try:
                table = table.select(schema.names).cast(schema)
            except (KeyError, pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise SourceError(
                    f"Rows pushed to {log.name!r} do not match the log's schema {schema}: {exc}"
                ) from None
    target = path / f"part-{to_micros(utcnow()):020d}-{uuid.uuid4().hex[:8]}.parquet"
    staging = target.with_suffix(".parquet.tmp")
    pq.write_table(table, staging)
    staging.replace(target)  # atomic: readers never see a half-written file
    return target
