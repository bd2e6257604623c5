"""A source queried by Spark SQL (``offline.engine: spark``): materialization's input.

The source is first registered in DuckDB (:class:`cairn.offline.source_query.DuckDBSourceQuery`),
which checks it and gives its column types, exactly as for the DuckDB engine; Spark then reads
the same files (:func:`cairn.offline.spark.sources.source_frame`: Parquet in name order, Delta
through deltalake's file list) as a temporary view. Each query runs on Spark and its rows come
back as Arrow, registered in the DuckDB connection for what follows (encoding, batches).
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pyarrow as pa

from cairn.core.config import OfflineSettings
from cairn.features.source import Source
from cairn.offline.connection import quote
from cairn.offline.source_query import DuckDBSourceQuery
from cairn.offline.spark.session import quiet, require_pyspark, spark_session
from cairn.offline.spark.sources import source_frame, squote
from cairn.offline.spark.sql import SPARK


class SparkSourceQuery:
    """A source as a Spark temporary view (see :class:`cairn.offline.source_query.SourceQuery`).

    Results are collected to the driver as one Arrow table per query (size the driver with
    ``offline.spark_driver_memory``).
    """

    def __init__(
        self, settings: OfflineSettings, root: Path, source: Source, *, with_file: bool = False
    ) -> None:
        require_pyspark()
        self._duck = DuckDBSourceQuery(settings, root, source)
        self.con = self._duck.con
        self.relation = self._duck.relation
        self.dialect = SPARK
        self._name = f"__m_{uuid.uuid4().hex[:12]}"
        self.view = squote(self._name)
        self._results = 0
        try:
            self._spark = spark_session(settings)
            with quiet():
                frame = source_frame(self._spark, self.relation, root, with_file=with_file)
                frame.createOrReplaceTempView(self._name)
        except BaseException:
            self._duck.close()
            raise

    def local(self, sql: str) -> str:
        """Run ``sql`` on Spark; its rows, as Arrow, become a relation of :attr:`con`."""
        with quiet():
            # the batches as Spark sends them: DataFrame.toArrow() casts them to a schema where a
            # struct's non-null field (the sequence in a tile's order) may not be null under a
            # null struct, which a tile without values has
            frame = self._spark.sql(sql)
            batches = frame._collect_as_arrow(empty_list_if_zero_records=False)  # type: ignore[operator]
        table = pa.Table.from_batches(batches)
        name = f"__spark_{self._results}"
        self._results += 1
        self.con.register(name, table)
        return quote(name)

    def partition(self, key: str, count: int) -> str:
        """CRC-32 of the key's UTF-8 text modulo ``count``, in Spark SQL."""
        return f"(crc32(CAST({key} AS BINARY)) % {int(count)})"

    def close(self) -> None:
        """Drop the temporary view and close the DuckDB connection."""
        try:
            self._spark.catalog.dropTempView(self._name)
        finally:
            self._duck.close()
