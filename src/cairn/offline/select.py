"""Which engine builds training sets: the ``offline.engine`` setting."""

from __future__ import annotations

from cairn.offline.engine import OfflineEngine, TrainingSetEngine

__all__ = ["training_engine"]


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
