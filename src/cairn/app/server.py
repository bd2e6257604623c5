"""Wiring for ``cairn serve``: a project's FeatureStore -> the serving app's callables.

:mod:`cairn.serving` knows nothing of the feature store; this module hands it a reader, a
freshness probe and a readiness probe over one :class:`~cairn.app.FeatureStore`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from cairn.app.feature_store import FeatureStore
from cairn.core.config import environment
from cairn.core.types import Micros
from cairn.serving import ServingLimits, create_app
from cairn.serving.protocols import EntityRow

REPO_ENV = "CAIRN_REPO"
"""The project folder of :func:`app_from_env` (set by ``cairn serve`` for its workers)."""

logger = logging.getLogger("cairn.serving")


def build_app(repo_path: str | Path = ".", *, limits: ServingLimits | None = None) -> FastAPI:
    """The HTTP app serving the project at ``repo_path``.

    A missing or invalid ``cairn.yaml`` or online store URL fails here, before serving
    starts; an online store that does not answer only makes ``/readyz`` report 503.

    Example
    -------
    >>> import tempfile, pathlib
    >>> repo = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (repo / "cairn.yaml").write_text("project: demo")
    >>> [path for path in build_app(repo).openapi()["paths"] if path.startswith("/v1")]
    ['/v1/features/online']
    """
    store = FeatureStore(repo_path)
    online = store.online  # opens the store now, so a bad URL is a startup error

    def read(
        features: list[str], entity_rows: list[EntityRow], full_feature_names: bool
    ) -> dict[str, list[Any]]:
        return store.get_online_features(features, entity_rows, full_feature_names).to_dict()

    def freshness() -> Mapping[str, Mapping[str, Micros | None]]:
        return online.freshness(store.applied_views())

    try:  # warm definitions and source schemas so the first request does not pay for them
        views = store.applied_views()
        for applied in views.values():
            online.warm(applied)
    except Exception as exc:
        logger.warning("Could not load the applied definitions yet: %s", exc)
    _refresh_periodically(store, REFRESH_SECONDS)
    # SQLite answers in microseconds: reading on the event loop beats a thread hop (~0.1 ms).
    # A networked store (Redis) could stall the loop for its timeout, so it reads in threads.
    offload = not online.store.url.startswith("sqlite")
    return create_app(
        read, freshness=freshness, ready=online.store.ping, limits=limits, offload=offload
    )


def app_from_env() -> FastAPI:
    """:func:`build_app` for the project named by ``CAIRN_REPO`` (uvicorn's ``--factory``
    entry point when serving with several worker processes)."""
    return build_app(environment(REPO_ENV, ".") or ".")


REFRESH_SECONDS = 10.0
"""How often a server re-reads the applied definitions (so `cairn apply` needs no restart)."""


def _refresh_periodically(store: FeatureStore, seconds: float) -> None:
    def loop() -> None:
        while not stop.wait(seconds):
            try:
                store.refresh()
                store.applied_views()
            except Exception as exc:  # keep serving what was loaded
                logger.warning("Refreshing definitions failed; serving the loaded ones: %s", exc)

    stop = threading.Event()
    threading.Thread(target=loop, name="cairn-refresh", daemon=True).start()
