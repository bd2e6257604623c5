"""Wiring for ``cairn serve``: a project's FeatureStore -> the serving app's callables.

:mod:`cairn.serving` knows nothing of the feature store; this module hands it a reader, a
freshness probe and a readiness probe over one :class:`~cairn.app.FeatureStore`, and the
deployments' rollouts from the project's :class:`~cairn.serving.routing.RolloutStore`: loaded
at start, then polled every ``CAIRN_ROLLOUT_POLL_SECONDS`` (one cheap ``stamp()`` query); a
changed rollout's models are loaded and warmed before its router replaces the old one.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from cairn.app.feature_store import FeatureStore
from cairn.app.model_loader import RegistryModelLoader
from cairn.app.monitoring import monitoring_collector
from cairn.app.rollout import RolloutService
from cairn.core.config import STATE_DIR, environment
from cairn.core.errors import ConfigError
from cairn.core.types import Micros
from cairn.explain import REASON_CODES_FILE, ReasonCodeBook
from cairn.registry.models import ModelRegistry
from cairn.serving import ServingLimits, create_app
from cairn.serving.admin import AdminTokens
from cairn.serving.deployments import DEPLOYMENTS_FILE, Deployment, load_deployments
from cairn.serving.log_records import OUTCOME_SCHEMA, PREDICTION_SCHEMA
from cairn.serving.prediction_log import Durability, SegmentLog
from cairn.serving.predictor import Predictor
from cairn.serving.protocols import EntityRow
from cairn.serving.routing import RolloutSpec, RolloutStore
from cairn.serving.routing.shadow import DEFAULT_MAXSIZE
from cairn.tracking import Tracker

REPO_ENV = "CAIRN_REPO"
"""The project folder of :func:`app_from_env` (set by ``cairn serve`` for its workers)."""
DURABILITY_ENV = "CAIRN_LOG_DURABILITY"
"""``write`` (default: an acknowledged prediction survives SIGKILL) or ``fsync``."""
ADMIN_TOKEN_ENV = "CAIRN_ADMIN_TOKEN"
"""The bearer token of the admin endpoints, with every role (unset: they refuse)."""
ADMIN_TOKENS_ENV = "CAIRN_ADMIN_TOKENS"
"""More admin tokens with roles: ``viewer:TOKEN,deployer:NAME:TOKEN,...``."""
POLL_ENV = "CAIRN_MODEL_POLL_SECONDS"
"""How often deployments re-resolve their aliases (default 10 s)."""
ROLLOUT_POLL_ENV = "CAIRN_ROLLOUT_POLL_SECONDS"
"""How often the server checks the rollout store for changed rollouts (default 1 s)."""
SHADOW_QUEUE_ENV = "CAIRN_SHADOW_QUEUE"
"""Rows the shadow queue holds before it drops new ones (default 10,000)."""
RETRY_SECONDS = 10.0
"""How long a rollout whose models failed to load waits before the next try."""
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
    tracker = Tracker.for_project(store.settings.tracking, store.root, store.project)
    registry = ModelRegistry(tracker, store.metadata.engine, store.project)
    rollouts = RolloutStore(store.metadata.engine, project=store.project)
    predictor = Predictor(
        deployments,
        RegistryModelLoader(tracker, registry),
        read,
        SegmentLog(store.root / PREDICTIONS_DIR, PREDICTION_SCHEMA, durability=mode),
        books=_books(store.root, deployments),
        offload=offload,  # the feature budget applies to networked stores (Redis)
        shadow_queue=int(environment(SHADOW_QUEUE_ENV, str(DEFAULT_MAXSIZE)) or DEFAULT_MAXSIZE),
    )
    stamp, specs = _read_rollouts(rollouts)
    predictor.apply_rollouts(specs)  # load and warm every model before the first request
    _poll_models(predictor, float(environment(POLL_ENV, "10") or 10))
    _poll_rollouts(predictor, rollouts, stamp, float(environment(ROLLOUT_POLL_ENV, "1") or 1))

    def ready() -> None:
        online.store.ping()
        predictor.ready()

    app = create_app(
        read,
        freshness=freshness,
        ready=ready,
        limits=limits,
        offload=offload,
        predictor=predictor,
        outcomes=SegmentLog(store.root / OUTCOMES_DIR, OUTCOME_SCHEMA, durability=mode),
        admin_token=AdminTokens.parse(
            environment(ADMIN_TOKENS_ENV), admin_token=environment(ADMIN_TOKEN_ENV)
        ),
        rollouts=RolloutService(rollouts, registry, deployments),
    )
    # the latest drift and performance results of `cairn monitor run`, read at scrape time
    app.state.metrics.registry.register(monitoring_collector(store.metadata, store.project))
    return app


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


def _read_rollouts(rollouts: RolloutStore) -> tuple[int | None, dict[str, RolloutSpec]]:
    """The store's stamp and every current rollout (none, logged, when it cannot be read)."""
    try:
        stamp = rollouts.stamp()  # first: a change landing meanwhile is read again next poll
        return stamp, rollouts.all_current()
    except Exception as exc:  # a spec that no longer validates, a database that is down
        logger.warning("Could not read the rollouts; serving deployments.yaml: %s", exc)
        return None, {}


def _poll_rollouts(
    predictor: Predictor, rollouts: RolloutStore, stamp: int | None, seconds: float
) -> None:
    """Apply changed rollouts: one ``stamp()`` query per poll, the specs only when it moved."""

    def loop() -> None:
        last, retry_at = stamp, 0.0
        while not stop.wait(seconds):
            retry = bool(predictor.unapplied) and time.monotonic() >= retry_at
            try:
                now = rollouts.stamp()
                if now == last and not retry:
                    continue
                changed = predictor.apply_rollouts(rollouts.all_current())
            except Exception as exc:  # keep serving the current rollouts
                logger.warning("Could not apply the rollouts; serving the current ones: %s", exc)
                continue
            last = now
            for name in changed:
                logger.info("Deployment %s now serves %s", name, predictor.rollout(name).strategy)
            for name, why in predictor.unapplied.items():
                logger.warning("Rollout of %s not applied yet: %s", name, why)
            retry_at = time.monotonic() + RETRY_SECONDS

    stop = threading.Event()
    threading.Thread(target=loop, name="cairn-rollout-poll", daemon=True).start()


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
