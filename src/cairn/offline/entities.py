"""The entity rows of a training-set query: a DataFrame, a file, or SQL over the sources.

They are registered as the relation ``__entities`` with their own columns plus ``__row``
(the position, which fixes the output order) and ``__t`` (the request time in microseconds).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from cairn.core.errors import EntityDataFrameError, SourceError
from cairn.offline.connection import epoch_us, is_aware, literal, quote
from cairn.offline.csv_reader import read_csv

TIME_COLUMN = "event_timestamp"
EntityInput: TypeAlias = pd.DataFrame | pa.Table | str | Path


@dataclass(frozen=True)
class EntityRows:
    """Entity rows registered in a connection."""

    columns: list[str]
    types: dict[str, str]
    frame: pd.DataFrame | None
    """The caller's DataFrame, when one was given (its columns are returned as they are)."""
    table: pa.Table | None = None
    """The same rows as Arrow (converted once, reused by ``to_arrow``)."""


def arrow_table(frame: pd.DataFrame) -> pa.Table:
    """A DataFrame as an Arrow table, without its index.

    pyarrow < 26 reads timezone-aware columns through ``Series.values``, which pandas 3.1
    deprecates; the warning concerns pyarrow's internals, not the caller, so it is not shown.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Series.values returning an ndarray")
        return pa.Table.from_pandas(frame, preserve_index=False)


def register_entities(
    con: duckdb.DuckDBPyConnection, entity_df: EntityInput, join_keys: Sequence[str]
) -> EntityRows:
    """Validate the entity rows and register them as ``__entities``."""
    frame: pd.DataFrame | None = None
    table: pa.Table | None = None
    if isinstance(entity_df, pd.DataFrame):
        frame = entity_df
        _check_frame(entity_df)
        table = arrow_table(entity_df)
        base = _with_row(con, table)
    elif isinstance(entity_df, pa.Table):
        base = _with_row(con, entity_df)
    elif isinstance(entity_df, (str, Path)):
        base = _from_text(con, str(entity_df))
    else:
        raise EntityDataFrameError(
            "entity_df must be a pandas DataFrame, a pyarrow Table, a Parquet/CSV path or a SQL "
            f"query; got {type(entity_df).__name__}."
        )
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {base}").fetchall()
    except duckdb.Error as exc:
        raise EntityDataFrameError(f"entity_df cannot be read: {exc}") from None
    types = {row[0]: row[1] for row in described if row[0] != "__row"}
    from_sql = isinstance(entity_df, str) and is_sql(entity_df.strip())
    _check_columns(types, join_keys, from_sql=from_sql)
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW __entities AS SELECT *, "
        f"{epoch_us(quote(TIME_COLUMN), types[TIME_COLUMN])} AS __t FROM {base}"
    )
    nulls = con.execute("SELECT count(*) FROM __entities WHERE __t IS NULL").fetchall()[0]
    if nulls and nulls[0]:
        raise EntityDataFrameError(
            f"entity_df column {TIME_COLUMN!r} has {nulls[0]} null value(s); every entity row "
            f"needs the time at which its features are wanted."
        )
    return EntityRows([c for c in types], types, frame, table)


def _with_row(con: duckdb.DuckDBPyConnection, table: pa.Table) -> str:
    if "__row" in table.column_names:
        raise EntityDataFrameError("entity_df must not have a column named '__row' (reserved).")
    table = table.append_column("__row", pa.array(np.arange(table.num_rows, dtype=np.int64)))
    con.register("__entities_arrow", table)
    return "__entities_arrow"


def is_sql(text: str) -> bool:
    """Whether an entity_df string is a query rather than a path."""
    head = text.strip().split(None, 1)
    return bool(head) and head[0].upper() in ("SELECT", "WITH", "FROM", "VALUES", "(SELECT")


def _from_text(con: duckdb.DuckDBPyConnection, text: str) -> str:
    stripped = text.strip()
    if is_sql(stripped):
        query = f"SELECT *, row_number() OVER () - 1 AS __row FROM ({stripped.rstrip(';')})"
        try:
            con.execute(f"CREATE OR REPLACE TEMP VIEW __entities_sql AS {query}")
        except duckdb.Error as exc:
            raise EntityDataFrameError(f"entity_df SQL failed: {exc}") from None
        return "__entities_sql"
    path = Path(text).expanduser()
    if not path.exists():
        raise EntityDataFrameError(
            f"entity_df {text!r} is neither an existing Parquet/CSV file nor a SQL query "
            f"(SELECT ... FROM <source name>)."
        )
    if path.suffix.lower() == ".csv":
        try:
            table = read_csv(path, types={TIME_COLUMN: pa.timestamp("us", tz="UTC")})
        except SourceError as exc:
            raise EntityDataFrameError(f"entity_df {text!r}: {exc}") from None
        return _with_row(con, table)
    files = sorted(path.rglob("*.parquet")) if path.is_dir() else [path]
    listing = "[" + ", ".join(literal(str(f)) for f in files) + "]"
    con.execute(
        "CREATE OR REPLACE TEMP VIEW __entities_file AS SELECT * EXCLUDE (file_row_number, "
        "__cairn_file), row_number() OVER (ORDER BY __cairn_file, file_row_number) - 1 AS __row "
        f"FROM read_parquet({listing}, file_row_number=true, filename='__cairn_file', "
        "can_have_nan=true)"
    )
    return "__entities_file"


def _check_frame(df: pd.DataFrame) -> None:
    if TIME_COLUMN not in df.columns:
        return  # reported with the other missing columns
    dtype = df[TIME_COLUMN].dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        return
    if pd.api.types.is_datetime64_dtype(dtype):
        raise EntityDataFrameError(
            f"entity_df column {TIME_COLUMN!r} holds naive timestamps ({dtype}); expected "
            f"timezone-aware UTC, e.g. "
            f"df[{TIME_COLUMN!r}] = df[{TIME_COLUMN!r}].dt.tz_localize('UTC')."
        )
    raise EntityDataFrameError(
        f"entity_df column {TIME_COLUMN!r} must hold timezone-aware timestamps; got dtype {dtype} "
        f"(convert with pd.to_datetime(..., utc=True))."
    )


def _check_columns(
    types: dict[str, str], join_keys: Sequence[str], *, from_sql: bool = False
) -> None:
    missing = [c for c in (*join_keys, TIME_COLUMN) if c not in types]
    if missing:
        hint = (
            f" In the query, name them with AS, e.g. SELECT ..., applied_at AS {TIME_COLUMN}."
            if from_sql
            else ""
        )
        raise EntityDataFrameError(
            f"entity_df is missing the column(s) {', '.join(map(repr, missing))}; expected the "
            f"join keys {list(join_keys)} and {TIME_COLUMN!r}; got columns {list(types)}.{hint}"
        )
    kind = types[TIME_COLUMN].upper()
    if not is_aware(kind):
        raise EntityDataFrameError(
            f"entity_df column {TIME_COLUMN!r} must hold timezone-aware UTC timestamps; got {kind}."
        )
    reserved = [c for c in types if c.startswith("__")]
    if reserved:
        raise EntityDataFrameError(
            f"entity_df column {reserved[0]!r}: names starting with '__' are reserved."
        )
