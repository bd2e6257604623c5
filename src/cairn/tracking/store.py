"""One MLflow store bound to explicit URIs: its client, a bound session, and guarded calls.

No MLflow global state is left between calls: the client is bound to the URIs, and a
:meth:`MlflowStore.session` points MLflow's process-wide URIs at the store for one block only.
An MLflow error of a call becomes a :class:`~cairn.tracking.errors.TrackingError` naming the
store (its URL without credentials). :class:`~cairn.tracking.tracker.Tracker` is one (with an
experiment); :class:`~cairn.tracking.registry.MlflowRegistry` and
:class:`~cairn.tracking.run.RunLogger` talk to MLflow through one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from cairn.core.errors import ConfigError
from cairn.core.urls import redact_url
from cairn.tracking import _mlflow
from cairn.tracking.errors import TrackingError


class MlflowStore:
    """An MLflow tracking store and its model registry, at explicit URIs.

    Parameters
    ----------
    uri:
        An MLflow tracking URI (``sqlite:////abs/mlflow.db``, ``http://host:5000``, ...).
    registry_uri:
        The model registry's URI; default: the tracking URI.

    Example
    -------
    >>> store = MlflowStore("http://mlflow:5000")
    >>> store.registry_uri
    'http://mlflow:5000'
    """

    def __init__(self, uri: str, *, registry_uri: str | None = None) -> None:
        if not uri.strip():
            raise ConfigError("tracking.uri must not be empty (e.g. sqlite:///.cairn/mlflow.db).")
        self.uri = uri
        self.registry_uri = registry_uri or uri
        self._client: Any = None

    @property
    def client(self) -> Any:
        """The underlying ``MlflowClient`` (created on first use)."""
        if self._client is None:
            self._client = _mlflow.client(self.uri, self.registry_uri)
        return self._client

    @contextmanager
    def session(self) -> Iterator[Any]:
        """MLflow bound to this store's URIs, quietly, for one block (yields ``mlflow``)."""
        with _mlflow.bound(self.uri, self.registry_uri) as mlflow, _mlflow.quiet():
            yield mlflow

    def call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run one MLflow client call quietly, turning MLflow's errors into Cairn's."""
        try:
            with self.session():
                return fn(*args, **kwargs)
        except Exception as exc:
            if not _mlflow.is_mlflow_error(exc):
                raise
            raise TrackingError(
                f"MLflow at {redact_url(self.uri)} failed to {what}: {exc}"
            ) from None
