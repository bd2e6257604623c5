"""The project's prediction and outcome logs, read with DuckDB and fed from files.

:class:`PredictionLog` is a project's pair of logs (``.cairn/predictions`` and
``.cairn/outcomes``); it is the :class:`~cairn.core.predictions.LogReader` that monitoring,
experiment analysis and the canary controller read through.
``query`` runs SQL over two views, ``predictions`` and ``outcomes`` (empty views when nothing was
logged yet), over the segments :func:`~cairn.serving.log_compaction.live_segments` lists: readers
never change the log. What a killed server staged becomes readable when a writer starts or
:meth:`PredictionLog.compact` (``cairn predictions compact``) runs.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa

from cairn.core.errors import ConfigError, DataError
from cairn.serving.errors import ApiError
from cairn.serving.log_compaction import GRACE_S, Compaction, compact, live_segments
from cairn.serving.log_records import OUTCOME_SCHEMA, PREDICTION_SCHEMA, outcome_row
from cairn.serving.outcomes import outcome_of
from cairn.serving.prediction_log import SegmentLog

_READ_ATTEMPTS = 5
"""Reads over a file list that a compaction retired and deleted meanwhile start over."""

_DATABASE: tuple[int, duckdb.DuckDBPyConnection] | None = None
"""The process's in-memory database :func:`query` connects to (with the pid that opened it)."""
_DATABASE_LOCK = threading.Lock()

PREDICTIONS_DIR = Path(".cairn/predictions")
OUTCOMES_DIR = Path(".cairn/outcomes")


class PredictionLog:
    """A project's prediction and outcome logs.

    Parameters
    ----------
    root:
        The project folder (the logs are ``.cairn/predictions`` and ``.cairn/outcomes``).

    Example
    -------
    >>> import tempfile
    >>> PredictionLog(tempfile.mkdtemp()).query("SELECT count(*) FROM outcomes").rows
    [(0,)]
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.predictions_dir = self.root / PREDICTIONS_DIR
        self.outcomes_dir = self.root / OUTCOMES_DIR

    def connect(self) -> duckdb.DuckDBPyConnection:
        """A DuckDB connection with ``predictions`` and ``outcomes`` views (see :func:`connect`)."""
        return connect(self.root)

    def query(self, sql: str) -> QueryResult:
        """Run ``sql`` over the logs (see :func:`query`)."""
        return query(self.root, sql)

    def find(self, prediction_id: str) -> dict[str, Any] | None:
        """One logged prediction by id (see :func:`find_prediction`)."""
        return find_prediction(self.root, prediction_id)

    def load_outcomes(self, path: str | Path) -> int:
        """Append the outcomes of a file to the outcome log (see :func:`load_outcomes`)."""
        return load_outcomes(self.root, path)

    def compact(
        self, *, before: float | None = None, grace_s: float | None = None
    ) -> dict[str, Compaction]:
        """Recover dead servers' staging files and merge closed hours, in both logs (see
        :func:`cairn.serving.log_compaction.compact`); keyed ``predictions``, ``outcomes``."""
        grace = GRACE_S if grace_s is None else grace_s
        return {
            "predictions": compact(
                self.predictions_dir, PREDICTION_SCHEMA, before=before, grace_s=grace
            ),
            "outcomes": compact(self.outcomes_dir, OUTCOME_SCHEMA, before=before, grace_s=grace),
        }


@dataclass(frozen=True)
class QueryResult:
    """Column names and rows of one query."""

    columns: list[str]
    rows: list[tuple[Any, ...]]


def connect(root: str | Path) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with ``predictions`` and ``outcomes`` views over the project's logs."""
    return _with_views(duckdb.connect(), Path(root), temporary=False)


def _session() -> duckdb.DuckDBPyConnection:
    """A new connection to this process's in-memory DuckDB database (opened once: opening a
    database takes tens of milliseconds, a connection to an open one well under one); each
    has its own temporary views, so concurrent readers do not see each other's."""
    global _DATABASE
    with _DATABASE_LOCK:
        if _DATABASE is None or _DATABASE[0] != os.getpid():  # never share one across a fork
            _DATABASE = (os.getpid(), duckdb.connect())
        return _DATABASE[1].cursor()


def _with_views(
    con: duckdb.DuckDBPyConnection, root: Path, *, temporary: bool
) -> duckdb.DuckDBPyConnection:
    """``con`` with the ``predictions`` and ``outcomes`` views over the logs under ``root``."""
    kind = "TEMP VIEW" if temporary else "VIEW"
    for view, folder, schema in (
        ("predictions", PREDICTIONS_DIR, PREDICTION_SCHEMA),
        ("outcomes", OUTCOMES_DIR, OUTCOME_SCHEMA),
    ):
        files = live_segments(root / folder)
        empty = f"_{view}_schema"  # every column of the schema, even if no segment has it yet
        con.register(empty, pa.Table.from_pylist([], schema=schema))
        if files:
            listed = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
            con.execute(
                f"CREATE {kind} {view} AS SELECT * FROM {empty} UNION ALL BY NAME "
                f"SELECT * FROM read_parquet([{listed}], union_by_name=true)"
            )
        else:
            con.execute(f"CREATE {kind} {view} AS SELECT * FROM {empty}")
    return con


def query(root: str | Path, sql: str) -> QueryResult:
    """Run ``sql`` over the logs; a :class:`DataError` carries DuckDB's message.

    Example
    -------
    >>> import tempfile
    >>> query(tempfile.mkdtemp(), "SELECT count(*) AS n FROM predictions").rows
    [(0,)]
    """
    for attempt in range(_READ_ATTEMPTS):
        with _with_views(_session(), Path(root), temporary=True) as con:
            try:
                cursor = con.execute(sql)
                columns = [d[0] for d in cursor.description or []]
                return QueryResult(columns, cursor.fetchall())
            except duckdb.IOException:
                if attempt + 1 == _READ_ATTEMPTS:
                    raise DataError(
                        "The log kept changing under the query; run it again."
                    ) from None
            except duckdb.Error as exc:
                raise DataError(f"The query failed: {exc}") from None
    raise AssertionError("unreachable")


def find_prediction(root: str | Path, prediction_id: str) -> dict[str, Any] | None:
    """One logged prediction by id (the decision, its model version, entity and score), or None.

    Shadow scores logged under the same id are not the prediction and are skipped.

    Example
    -------
    >>> import tempfile
    >>> find_prediction(tempfile.mkdtemp(), "nope") is None
    True
    """
    with connect(root) as con:
        cursor = con.execute(
            "SELECT prediction_id, time, deployment, strategy, arm, model_name, model_version, "
            "entity, score, decision, reason_codes, fallback FROM predictions "
            "WHERE prediction_id = ? AND NOT coalesce(shadow, false) LIMIT 1",
            [prediction_id],
        )
        columns = [d[0] for d in cursor.description or []]
        rows = cursor.fetchall()
    return dict(zip(columns, rows[0], strict=True)) if rows else None


def load_outcomes(root: str | Path, path: str | Path) -> int:
    """Append the outcomes of a CSV, Parquet or JSON-lines file to the outcome log.

    Columns: ``label`` and ``prediction_id``, or ``label``, ``event_time`` and join-key
    columns (any other column becomes an entity key); ``observed_at`` and ``deployment`` are
    optional. Returns the number of outcomes loaded; a bad row fails the whole file.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"No outcomes file {path}.")
    readers = {
        ".csv": "read_csv_auto",
        ".parquet": "read_parquet",
        ".jsonl": "read_json_auto",
        ".json": "read_json_auto",
    }
    reader = readers.get(path.suffix.lower())
    if reader is None:
        raise ConfigError(
            f"Outcomes file {path} must be .csv, .parquet or .jsonl; got {path.suffix!r}."
        )
    try:
        with duckdb.connect() as con:
            cursor = con.execute(f"SELECT * FROM {reader}(?)", [str(path)])
            names = [d[0] for d in cursor.description or []]
            records = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    except duckdb.Error as exc:
        raise DataError(f"Cannot read the outcomes file {path}: {exc}") from None
    now = time.time_ns() // 1000
    fixed = {"prediction_id", "label", "event_time", "observed_at", "deployment"}
    lines: list[bytes] = []
    for i, raw in enumerate(records):
        row = {k: v for k, v in raw.items() if k in fixed and v is not None}
        keys = {k: v for k, v in raw.items() if k not in fixed and v is not None}
        if keys and "prediction_id" not in row:
            row["entities"] = keys
        try:
            outcome = outcome_of(row, f"{path.name} row {i + 1}", now)
        except ApiError as exc:
            raise DataError(exc.message) from None
        lines.append(orjson.dumps(outcome_row(outcome)) + b"\n")
    log = SegmentLog(Path(root) / OUTCOMES_DIR, OUTCOME_SCHEMA)
    log.append_many(lines)
    log.close()
    return len(lines)
