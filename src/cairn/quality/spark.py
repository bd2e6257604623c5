"""Quality suites on Spark SQL (``offline.engine: spark``).

The suite compiles to the same statements as on DuckDB, in Spark's spellings
(:data:`cairn.quality.dialect.SPARK`); :class:`SparkExecutor` runs them on the process's Spark
session and hands back the one row of each as Python values (through Arrow, as DuckDB gives
them), so severities, health scores and kept failing rows are computed by the same code.
Column types stay DuckDB's (the data is described by DuckDB first); other tables checks name
are read by Spark from the same files (Parquet in name order, Delta through deltalake's file
list, CSV through Cairn's reader) or from the frames passed in.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pandas as pd
import pyarrow as pa

from cairn.core.config import OfflineSettings
from cairn.core.errors import DataError, SourceError
from cairn.offline.csv_reader import read_csv
from cairn.offline.sources import parquet_files
from cairn.quality.context import quote
from cairn.quality.data import bind
from cairn.quality.dialect import SPARK

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


class SparkExecutor:
    """Runs a suite's statements on Spark (see :class:`cairn.quality.executor.Executor`).

    Parameters
    ----------
    settings:
        The offline settings (master, driver memory) of the session.
    con:
        The DuckDB connection that describes other tables before Spark reads them.
    """

    dialect = SPARK

    def __init__(self, settings: OfflineSettings, con: duckdb.DuckDBPyConnection) -> None:
        from cairn.offline.spark.session import spark_session

        self.spark = spark_session(settings)
        self.con = con
        self.views: list[str] = []

    def run(self, sql: str, params: dict[str, Any], label: str) -> dict[str, Any]:
        """The one row of ``sql`` as column -> value."""
        from cairn.offline.spark.session import quiet

        try:
            with quiet():
                frame = self.spark.sql(sql, args=params)
                batches = frame._collect_as_arrow(empty_list_if_zero_records=False)  # type: ignore[operator]
        except Exception as exc:  # pyspark raises its own exception types
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DataError(f"Validating {label} failed in Spark: {first}") from None
        row: dict[str, Any] = pa.Table.from_batches(batches).to_pylist()[0]
        return row

    def table(self, data: Any, label: str) -> tuple[str, dict[str, str]]:
        """Another table as a Spark temporary view, with its DuckDB column types."""
        columns = bind(self.con, data, label=label).columns
        name = f"__cairn_table_{uuid.uuid4().hex[:12]}"
        from cairn.offline.spark.session import quiet

        with quiet():
            spark_frame(self.spark, data).createOrReplaceTempView(name)
        self.views.append(name)
        return quote(name), columns

    def close(self) -> None:
        """Drop the temporary views of other tables."""
        for name in self.views:
            self.spark.catalog.dropTempView(name)
        self.views.clear()


def spark_frame(spark: SparkSession, data: Any) -> DataFrame:
    """``data`` (a DataFrame, an Arrow table or stream, or a Parquet, CSV or Delta path) as a
    Spark DataFrame."""
    if isinstance(data, pd.DataFrame):
        return spark.createDataFrame(pa.Table.from_pandas(data, preserve_index=False))
    if isinstance(data, pa.Table):
        return spark.createDataFrame(data)
    if isinstance(data, (str, Path)):
        path = Path(data)
        if path.is_dir() and (path / "_delta_log").is_dir():
            from cairn.offline.spark.sources import delta_frame

            return delta_frame(spark, path)
        if path.is_file() and path.suffix.lower() in (".csv", ".tsv", ".txt"):
            return spark.createDataFrame(read_csv(path))
        return spark.read.parquet(*(f.resolve().as_uri() for f in parquet_files(path)))
    if hasattr(data, "__arrow_c_stream__"):
        return spark.createDataFrame(pa.table(data))
    raise SourceError(f"Spark cannot read {type(data).__name__} data.")
