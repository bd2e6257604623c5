"""A training set computed by Spark SQL, with the same interface and manifest as the DuckDB one.

The request is checked and the entity rows registered by the shared preparation
(:meth:`cairn.offline.OfflineEngine.prepare`); the entity rows' keys, position and time then
cross to Spark as Arrow, each source is read by Spark (:mod:`cairn.offline.spark.sources`) and
the features come back as Arrow, put in entity-row order. The manifest (row count, time range,
entity hash, source versions) is the DuckDB job's, so both engines describe a training set alike.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from cairn.core.config import OfflineSettings
from cairn.offline.connection import quote
from cairn.offline.engine import TrainingPlan
from cairn.offline.retrieval import RetrievalJob
from cairn.offline.spark.session import quiet, spark_session
from cairn.offline.spark.sources import source_frame
from cairn.offline.spark.sql import training_query

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


class SparkRetrievalJob(RetrievalJob):
    """A training set, computed by Spark when asked for: ``to_df()``, ``to_arrow()``,
    ``to_parquet()``; ``manifest`` and ``sql`` as for the DuckDB job."""

    def __init__(self, settings: OfflineSettings, plan: TrainingPlan, root: Path) -> None:
        super().__init__(plan.con, plan.entities, plan.requests, plan.names, plan.manifest)
        self._settings = settings
        self._root = root
        self._tag = uuid.uuid4().hex[:12]
        self._entity_view = f"__entities_{self._tag}"
        self._source_views = [f"{r.relation.view}_{self._tag}" for r in plan.requests]
        self._spark_query = training_query(
            plan.requests, self._source_views, plan.names, self._entity_view
        )

    @property
    def sql(self) -> str:
        """The Spark SQL query that computes the features (``__row`` and one column each)."""
        return self._spark_query

    def features(self) -> pa.Table:
        """The feature columns alone, one row per entity row, in entity-row order."""
        spark = spark_session(self._settings)
        views = self._register(spark)
        try:
            with quiet():
                table = spark.sql(self._spark_query).toArrow()
        finally:
            for name in views:
                spark.catalog.dropTempView(name)
        table = table.sort_by("__row")
        return table.drop_columns(["__row"])

    def to_arrow(self) -> pa.Table:
        """The training set as an Arrow table, entity rows in their given order."""
        features = self.features()
        entity = self._entities.table
        if entity is None:
            cols = ", ".join(quote(c) for c in self._entities.columns)
            entity = self._con.sql(f"SELECT {cols} FROM __entities ORDER BY __row").to_arrow_table()
        for name in features.column_names:
            entity = entity.append_column(name, features.column(name))
        return entity

    def to_df(self) -> pd.DataFrame:
        """The training set as a pandas DataFrame (entity columns first, then the features),
        with the dtypes the DuckDB engine gives."""
        if self._entities.frame is None:
            table: pd.DataFrame = self._con.from_arrow(self.to_arrow()).df()
            return table
        features = self._con.from_arrow(self.features()).df()
        entity = self._entities.frame.reset_index(drop=True)
        out: pd.DataFrame = pd.concat([entity, features], axis=1)
        return out

    def to_parquet(self, path: str | Path) -> Path:
        """Write the training set to one Parquet file."""
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(self.to_arrow(), out)
        return out

    def _register(self, spark: SparkSession) -> list[str]:
        """Register the entity rows and each source as this job's temporary views."""
        keys = list(dict.fromkeys(k for r in self._requests for k in r.view.join_keys))
        cols = ", ".join(quote(c) for c in [*keys, "__row", "__t"])
        rows = self._con.sql(f"SELECT {cols} FROM __entities").to_arrow_table()
        names: list[str] = []
        with quiet():
            spark.createDataFrame(rows).createOrReplaceTempView(self._entity_view)
            names.append(self._entity_view)
            done: set[str] = set()
            for req, name in zip(self._requests, self._source_views, strict=True):
                if name in done:
                    continue
                source_frame(spark, req.relation, self._root).createOrReplaceTempView(name)
                done.add(name)
                names.append(name)
        return names
