"""Which engine builds training sets and materialization's input: the ``offline.engine``
setting."""

from __future__ import annotations

from pathlib import Path

from cairn.core.config import OfflineSettings
from cairn.features.source import Source
from cairn.offline.engine import OfflineEngine, TrainingSetEngine
from cairn.offline.source_query import DuckDBSourceQuery, SourceQuery

__all__ = ["source_query", "training_engine"]


def training_engine(offline: OfflineEngine) -> TrainingSetEngine:
    """The engine of ``offline.engine``: ``offline`` itself (DuckDB) or a Spark engine over it.

    Example
    -------
    >>> from pathlib import Path
    >>> from cairn.core.config import OfflineSettings
    >>> duck = OfflineEngine(OfflineSettings(), Path("."), "p")
    >>> training_engine(duck) is duck
    True
    >>> type(training_engine(OfflineEngine(OfflineSettings(engine="spark"), Path("."), "p")))
    <class 'cairn.offline.spark.engine.SparkEngine'>
    """
    if offline.settings.engine == "spark":
        from cairn.offline.spark import SparkEngine

        return SparkEngine(offline)
    return offline


def source_query(
    settings: OfflineSettings, root: Path, source: Source, *, with_file: bool = False
) -> SourceQuery:
    """``source`` queryable by the engine of ``settings.engine`` (DuckDB, or Spark SQL)."""
    if settings.engine == "spark":
        from cairn.offline.spark.source_query import SparkSourceQuery

        return SparkSourceQuery(settings, root, source, with_file=with_file)
    return DuckDBSourceQuery(settings, root, source, with_file=with_file)
