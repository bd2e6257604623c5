"""The one place Cairn imports MLflow: telemetry off first, then quiet logs and warnings.

Every other module of :mod:`cairn.tracking` reaches MLflow through :func:`load`, so importing
Cairn never imports MLflow (it takes seconds) and MLflow never starts with telemetry on.
"""

from __future__ import annotations

import logging
import os
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

from cairn.core.errors import DependencyMissingError

_TELEMETRY_OFF = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}
_QUIET_LOGGERS = {
    "mlflow": logging.WARNING,
    # Cairn passes explicit requirements; the pip version only goes into an unused conda.yaml.
    "mlflow.utils.environment": logging.ERROR,
    # Cairn pickles scikit-learn challengers on purpose (skops needs a reviewed list of trusted
    # types per estimator); the artifact store is Cairn's own.
    "mlflow.sklearn": logging.ERROR,
}
_module: ModuleType | None = None
_bound_lock = threading.RLock()


def _not_pipeline_noise(record: logging.LogRecord) -> bool:
    """Drop psycopg's "error ignored terminating <Pipeline>" warning: MLflow's SQL store logs a
    batch of metrics, meets a duplicate key, rolls back and logs them one by one (its designed
    fallback); on PostgreSQL psycopg then warns about the aborted pipeline of the first try,
    whose error MLflow already handled."""
    return not str(record.msg).startswith("error ignored terminating")


def load() -> ModuleType:
    """The ``mlflow`` module, imported once with telemetry off (DESIGN §4: no telemetry, ever)."""
    global _module
    if _module is None:
        # Set unconditionally: a user's MLFLOW_DISABLE_TELEMETRY=false must not turn it back on.
        os.environ.update(_TELEMETRY_OFF)
        # Git lookups by MLflow's run-context providers spawn long-lived git processes; Cairn
        # records the commit itself (cairn.tracking.provenance).
        os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
        # Ending a run on a tracking server prints its URL to stdout, into the CLI's output.
        os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
        os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
        try:
            with quiet():
                import mlflow
        except ImportError as exc:
            raise DependencyMissingError(
                "Tracking needs MLflow, a dependency of cairn that is not installed; "
                "reinstall cairn (pip install cairn) or pip install mlflow."
            ) from exc
        for name, level in _QUIET_LOGGERS.items():
            logging.getLogger(name).setLevel(level)
        logging.getLogger("psycopg").addFilter(_not_pipeline_noise)
        _module = mlflow
    return _module


def client(tracking_uri: str, registry_uri: str | None = None) -> Any:
    """An ``mlflow.MlflowClient`` bound to explicit URIs (no global state)."""
    mlflow = load()
    with quiet():
        return mlflow.MlflowClient(tracking_uri=tracking_uri, registry_uri=registry_uri)


@contextmanager
def quiet() -> Iterator[None]:
    """Silence MLflow's own deprecation noise (and its dependencies') for one call.

    MLflow trips SQLAlchemy and pydantic deprecation warnings that say nothing to a Cairn user
    and would fail a test suite that turns warnings into errors.
    """
    with warnings.catch_warnings():
        for category in (DeprecationWarning, PendingDeprecationWarning, FutureWarning):
            warnings.simplefilter("ignore", category)
        warnings.filterwarnings("ignore", module=r"mlflow(\..*)?$")
        warnings.filterwarnings("ignore", module=r"alembic(\..*)?$")
        yield


@contextmanager
def bound(tracking_uri: str, registry_uri: str) -> Iterator[ModuleType]:
    """Point MLflow's process-wide URIs at one store for a block, then restore them.

    Parts of MLflow resolve ``models:/`` URIs and log model flavors through its fluent API,
    which reads these globals even when called from a client bound to explicit URIs. Blocks
    are serialised by a re-entrant lock, so two threads never see each other's URIs.
    """
    mlflow = load()
    from mlflow.tracking._model_registry import utils as registry_utils
    from mlflow.tracking._tracking_service import utils as tracking_utils

    with _bound_lock:
        previous = (
            getattr(tracking_utils, "_tracking_uri", None),
            getattr(registry_utils, "_registry_uri", None),
        )
        with quiet():
            mlflow.set_tracking_uri(tracking_uri)
            mlflow.set_registry_uri(registry_uri)
        try:
            yield mlflow
        finally:
            with quiet():
                mlflow.set_tracking_uri(previous[0])  # None unsets it (and MLFLOW_TRACKING_URI)
                mlflow.set_registry_uri(previous[1])


def error_code(exc: BaseException) -> str | None:
    """MLflow's error code of an ``MlflowException`` (``RESOURCE_DOES_NOT_EXIST``...), or None."""
    code = getattr(exc, "error_code", None)
    return code if isinstance(code, str) else None


def is_mlflow_error(exc: BaseException) -> bool:
    """Whether ``exc`` is an ``MlflowException`` (without importing MLflow to ask)."""
    return any(cls.__name__ == "MlflowException" for cls in type(exc).__mro__)
