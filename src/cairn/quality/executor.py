"""Where a suite's queries run: DuckDB in process (default), or Spark SQL
(:class:`cairn.quality.spark.SparkExecutor`, ``offline.engine: spark``).

An executor runs one statement returning one row, and binds the other tables checks name
(referential integrity, leakage) where its statements can read them.
"""

from __future__ import annotations

from typing import Any, Protocol

import duckdb

from cairn.core.errors import DataError
from cairn.quality.data import bind
from cairn.quality.dialect import DUCKDB, QualityDialect


class Executor(Protocol):
    """Runs a suite's statements."""

    dialect: QualityDialect

    def run(self, sql: str, params: dict[str, Any], label: str) -> dict[str, Any]:
        """The one row of ``sql`` as column -> value (``label`` names the data in errors)."""
        ...

    def table(self, data: Any, label: str) -> tuple[str, dict[str, str]]:
        """Relation SQL and DuckDB column types of another table (raises SourceError)."""
        ...


class DuckDBExecutor:
    """Statements run in a DuckDB connection."""

    dialect = DUCKDB

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def run(self, sql: str, params: dict[str, Any], label: str) -> dict[str, Any]:
        """See :meth:`Executor.run`."""
        try:
            cursor = self.con.execute(sql, params)
            (row,) = cursor.fetchall()  # fetch everything: DuckDB keeps a half-read result open
        except duckdb.Error as exc:
            raise DataError(f"Validating {label} failed in DuckDB: {exc}") from None
        assert cursor.description is not None
        return {d[0]: v for d, v in zip(cursor.description, row, strict=True)}

    def table(self, data: Any, label: str) -> tuple[str, dict[str, str]]:
        """See :meth:`Executor.table`."""
        table = bind(self.con, data, label=label)
        return table.relation, table.columns
