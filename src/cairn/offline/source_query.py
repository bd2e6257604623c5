"""A source's rows queried by the engine ``offline.engine`` names: the seam materialization
computes its input through.

A :class:`SourceQuery` holds one source with Cairn's internal columns (``__ev``, ``__cr``,
``__seq`` and, when asked, ``__file``) as the relation :attr:`~SourceQuery.view`, queried in
the engine's SQL (:attr:`~SourceQuery.dialect`, the one the window query is written with).
:meth:`~SourceQuery.local` runs a query on the engine and returns a relation of its rows in
the DuckDB connection :attr:`~SourceQuery.con`: what follows (encoding values, fetching in
batches for the online store) is the same code whatever the engine. The Spark form is
:class:`cairn.offline.spark.SparkSourceQuery`; :func:`cairn.offline.select.source_query`
picks one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import duckdb

from cairn.core.config import OfflineSettings
from cairn.core.online import partition_of
from cairn.features.source import Source
from cairn.offline.connection import connect, quote
from cairn.offline.sources import SourceRelation, register_source
from cairn.offline.windows import DUCKDB, WindowDialect


class SourceQuery(Protocol):
    """One source, queryable by an offline engine (close it when done)."""

    con: duckdb.DuckDBPyConnection
    """The DuckDB connection :meth:`local` relations live in."""
    relation: SourceRelation
    """The source and its column types (checked by DuckDB, whatever the engine)."""
    view: str
    """The source's relation in the engine's SQL (quoted)."""
    dialect: WindowDialect
    """The engine's SQL dialect."""

    def local(self, sql: str) -> str:
        """Run ``sql`` (engine SQL over :attr:`view`) and return a relation of its rows that
        :attr:`con` can read."""
        ...

    def partition(self, key: str, count: int) -> str:
        """SQL for the partition (of ``count``) of a storage key expression:
        :func:`cairn.core.online.partition_of`."""
        ...

    def close(self) -> None:
        """Release the source's relations."""
        ...


class DuckDBSourceQuery:
    """A source registered in an in-process DuckDB connection (``offline.engine: duckdb``).

    Example
    -------
    >>> import pandas as pd, tempfile
    >>> from cairn import FileSource
    >>> folder = Path(tempfile.mkdtemp())
    >>> pd.DataFrame({"k": [1, 2], "event_timestamp": pd.to_datetime([1, 2], unit="s", utc=True)}
    ...              ).to_parquet(folder / "e.parquet")
    >>> q = DuckDBSourceQuery(OfflineSettings(), folder, FileSource(path="e.parquet"))
    >>> q.con.sql(f"SELECT * FROM {q.local(f'SELECT max(__ev) AS m FROM {q.view}')}").fetchall()
    [(2000000,)]
    >>> q.close()
    """

    def __init__(
        self, settings: OfflineSettings, root: Path, source: Source, *, with_file: bool = False
    ) -> None:
        self.con = connect(settings, root)
        try:
            self.relation = register_source(self.con, source, root, "__m", with_file=with_file)
        except BaseException:
            self.con.close()
            raise
        self.view = quote(self.relation.view)
        self.dialect = DUCKDB
        self._udf = False

    def local(self, sql: str) -> str:
        """``sql`` as a subquery: it already runs here."""
        return f"({sql})"

    def partition(self, key: str, count: int) -> str:
        """``cairn_partition(key, count)``, a Python function registered on first use."""
        if not self._udf:
            self.con.create_function(
                "cairn_partition",
                lambda k, n: partition_of(k, n),
                ["VARCHAR", "BIGINT"],
                "BIGINT",
                side_effects=False,
            )
            self._udf = True
        return f"cairn_partition({key}, {int(count)})"

    def close(self) -> None:
        """Close the connection."""
        self.con.close()
