"""The Spark offline engine (``offline.engine: spark``, the ``spark`` extra).

Training sets — snapshot views with every rule of the point-in-time contract, and windowed
views — and materialization's input (the latest row per key, the tiles' partial states) computed
by Spark SQL over the same Parquet, Delta and CSV sources as the DuckDB engine, row for row the
same (the spark test group: tests/offline/test_pit_properties.py, test_pit_rules.py,
test_windows.py, test_spark_engine.py and tests/online/test_spark_materialize.py). pyspark is
imported when a session starts, not when this package is imported.
"""

from __future__ import annotations

from cairn.offline.spark.engine import SparkEngine
from cairn.offline.spark.session import INSTALL, require_pyspark, spark_session, stop_session
from cairn.offline.spark.source_query import SparkSourceQuery

__all__ = [
    "INSTALL",
    "SparkEngine",
    "SparkSourceQuery",
    "require_pyspark",
    "spark_session",
    "stop_session",
]
