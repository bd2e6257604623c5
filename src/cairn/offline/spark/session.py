"""The Spark session of the Spark offline engine: one per process, started on first use.

Spark runs where ``offline.spark_master`` says: ``local[N]`` starts a driver JVM in this process
(Java 17+ on the ``PATH``, nothing downloaded), ``spark://HOST:PORT``, ``k8s://...`` or
``yarn`` attach to a cluster. The session computes in UTC, without the web UI, and with few
shuffle partitions on a local master (a training set of a million rows fits in a handful).
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from cairn.core.config import OfflineSettings
from cairn.core.errors import DependencyMissingError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

INSTALL = "pip install 'cairn[spark]'"
"""How to get pyspark (the ``spark`` extra)."""

_LOCK = threading.Lock()
_SESSION: SparkSession | None = None


def require_pyspark() -> None:
    """Raise one DependencyMissingError naming the extra when pyspark is not installed."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise DependencyMissingError(
            f"offline.engine is 'spark' but pyspark is not installed: {INSTALL} "
            f"(and Java 17 or later on the PATH)."
        ) from None


@contextmanager
def quiet() -> Iterator[None]:
    """Hide pyspark's warning that it does not yet vouch for pandas 3 (it concerns pyspark's
    pandas API, which the engine does not use: data crosses as Arrow)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "PySpark does not yet fully support pandas")
        yield


def spark_session(settings: OfflineSettings) -> SparkSession:
    """The process's Spark session for ``settings`` (created on the first call, from any thread).

    Spark allows one running session per process: a later call with another master gets the
    running one (the first configuration wins until :func:`stop_session`).
    """
    global _SESSION
    require_pyspark()
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    with _LOCK, quiet():
        if _SESSION is not None and SparkContext._active_spark_context is not None:
            return _SESSION
        builder = (
            SparkSession.builder.master(settings.spark_master)
            .appName("cairn-offline")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.driver.memory", settings.spark_driver_memory)
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            # quality suites quote identifiers "like this" (Cairn's own SQL uses backticks
            # and single-quoted strings, which this leaves alone)
            .config("spark.sql.ansi.enabled", "true")
            .config("spark.sql.ansi.doubleQuotedIdentifiers", "true")
        )
        if settings.spark_master.startswith("local"):
            # one machine: talk over loopback, whatever the host name resolves to
            builder = (
                builder.config("spark.sql.shuffle.partitions", "8")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
            )
        _SESSION = builder.getOrCreate()
        _SESSION.sparkContext.setLogLevel("ERROR")
        return _SESSION


def stop_session() -> None:
    """Stop the process's Spark session, if one runs (the next use starts a new one)."""
    global _SESSION
    with _LOCK:
        if _SESSION is not None:
            _SESSION.stop()
            _SESSION = None
