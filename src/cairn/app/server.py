"""Wiring for ``cairn serve``: a project's FeatureStore -> the serving app's callables.

:mod:`cairn.serving` knows nothing of the feature store; this module hands it a reader, a
freshness probe and a readiness probe over one :class:`~cairn.app.FeatureStore`.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from cairn.app.feature_store import FeatureStore
from cairn.app.model_loader import RegistryModelLoader
from cairn.core.config import STATE_DIR, environment
from cairn.core.errors import ConfigError
from cairn.core.types import Micros
from cairn.explain import REASON_CODES_FILE, ReasonCodeBook
from cairn.registry.models import ModelRegistry
from cairn.serving import ServingLimits, create_app
from cairn.serving.deployments import DEPLOYMENTS_FILE, Deployment, load_deployments
from cairn.serving.log_records import OUTCOME_SCHEMA, PREDICTION_SCHEMA
from cairn.serving.prediction_log import Durability, SegmentLog
from cairn.serving.predictor import Predictor
from cairn.serving.protocols import EntityRow
from cairn.tracking import Tracker

REPO_ENV = "CAIRN_REPO"
"""The project folder of :func:`app_from_env` (set by ``cairn serve`` for its workers)."""
DURABILITY_ENV = "CAIRN_LOG_DURABILITY"
"""``write`` (default: an acknowledged prediction survives SIGKILL) or ``fsync``."""
ADMIN_TOKEN_ENV = "CAIRN_ADMIN_TOKEN"
"""The bearer token of the admin endpoints (unset: they refuse)."""
POLL_ENV = "CAIRN_MODEL_POLL_SECONDS"
"""How often deployments re-resolve their aliases (default 10 s)."""
PREDICTIONS_DIR = f"{STATE_DIR}/predictions"
OUTCOMES_DIR = f"{STATE_DIR}/outcomes"

logger = logging.getLogger("cairn.serving")


def build_app(
    repo_path: str | Path = ".",
    *,
    limits: ServingLimits | None = None,
    durability: Durability | None = None,
) -> FastAPI:
    """The HTTP app serving the project at ``repo_path``.

    With a ``deployments.yaml`` in the project, it also scores: models are loaded from the
    registry and warmed here, before the app takes traffic, and re-resolved every
    ``CAIRN_MODEL_POLL_SECONDS``.

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
    deployments = load_deployments(store.root / DEPLOYMENTS_FILE)
    if not deployments:
        return create_app(
            read, freshness=freshness, ready=online.store.ping, limits=limits, offload=offload
        )
    given = durability or environment(DURABILITY_ENV, "write") or "write"
    if given not in ("write", "fsync"):
        raise ConfigError(f"{DURABILITY_ENV} must be write or fsync; got {given!r}.")
    mode: Durability = "fsync" if given == "fsync" else "write"
    predictor = Predictor(
        deployments,
        _loader(store),
        read,
        SegmentLog(store.root / PREDICTIONS_DIR, PREDICTION_SCHEMA, durability=mode),
        books=_books(store.root, deployments),
        offload=offload,  # the feature budget applies to networked stores (Redis)
    )
    predictor.refresh()  # load and warm before the first request
    _poll_models(predictor, float(environment(POLL_ENV, "10") or 10))

    def ready() -> None:
        online.store.ping()
        predictor.ready()

    return create_app(
        read,
        freshness=freshness,
        ready=ready,
        limits=limits,
        offload=offload,
        predictor=predictor,
        outcomes=SegmentLog(store.root / OUTCOMES_DIR, OUTCOME_SCHEMA, durability=mode),
        admin_token=environment(ADMIN_TOKEN_ENV),
    )


def _loader(store: FeatureStore) -> RegistryModelLoader:
    tracker = Tracker.for_project(store.settings.tracking, store.root, store.project)
    return RegistryModelLoader(
        tracker, ModelRegistry(tracker, store.metadata.engine, store.project)
    )


def _books(root: Path, deployments: Mapping[str, Deployment]) -> dict[str, ReasonCodeBook]:
    books: dict[str, ReasonCodeBook] = {}
    for name, dep in deployments.items():
        path = root / (dep.reason_codes or REASON_CODES_FILE)
        if dep.reason_codes is not None or path.is_file():
            books[name] = ReasonCodeBook.from_yaml(path)
    return books


def _poll_models(predictor: Predictor, seconds: float) -> None:
    def loop() -> None:
        while not stop.wait(seconds):
            predictor.refresh()  # logs and keeps the loaded models when MLflow is down

    stop = threading.Event()
    threading.Thread(target=loop, name="cairn-model-poll", daemon=True).start()


def app_from_env() -> FastAPI:
    """:func:`build_app` for the project named by ``CAIRN_REPO`` (uvicorn's ``--factory``
    entry point when serving with several worker processes)."""
    app = build_app(environment(REPO_ENV, ".") or ".")
    freeze_heap()
    return app


def freeze_heap() -> None:
    """Move everything loaded at start-up (models, definitions, libraries) out of the garbage
    collector's reach: full collections then scan only request garbage, which removes the
    ~100 ms pauses that otherwise set the p99 latency."""
    gc.collect()
    gc.freeze()


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
