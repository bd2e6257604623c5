"""The Spark offline engine (``offline.engine: spark``, the ``spark`` extra).

Training sets — snapshot views with every rule of the point-in-time contract, and windowed
views — computed by Spark SQL over the same Parquet, Delta and CSV sources as the DuckDB engine,
row for row the same (the spark test group: tests/offline/test_pit_properties.py,
test_pit_rules.py, test_windows.py and test_spark_engine.py). pyspark is imported when a session
starts, not when this package is imported.
"""

from __future__ import annotations

from cairn.offline.spark.engine import SparkEngine
from cairn.offline.spark.session import INSTALL, require_pyspark, spark_session, stop_session

__all__ = ["INSTALL", "SparkEngine", "require_pyspark", "spark_session", "stop_session"]
