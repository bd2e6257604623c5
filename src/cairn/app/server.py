"""Wiring for ``cairn serve``: a :class:`~cairn.app.project.Project` -> the serving app.

:mod:`cairn.serving` knows nothing of the feature store or the registry; this module hands it a
reader, a freshness probe and a readiness probe over the project's feature store, a model loader
over its registry, its prediction and outcome logs, and its rollout service. Three background
loops keep a long-running server current — definitions re-read every ``REFRESH_SECONDS``
(``cairn apply`` needs no restart), deployment aliases re-resolved every
``serving.model_poll_seconds``, the rollout store polled every ``serving.rollout_poll_seconds``
(one cheap ``stamp()`` query; a changed rollout's models are loaded and warmed before its
router replaces the old one). They are :class:`~cairn.core.background.PeriodicTask` objects that
the app's ASGI lifespan starts and stops: building an app starts no thread, and shutting it
down leaves none behind.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI

from cairn.app.model_loader import RegistryModelLoader
from cairn.app.project import Project
from cairn.app.scoring import reason_books
from cairn.app.settings_env import ServerOptions, server_options
from cairn.core.background import PeriodicTask
from cairn.core.config import process_settings
from cairn.core.types import Micros
from cairn.monitoring.service import monitoring_collector
from cairn.retraining.gauges import retraining_collector
from cairn.rollouts import RolloutSpec, RolloutStore
from cairn.serving import ServingLimits, create_app
from cairn.serving.admin import AdminTokens
from cairn.serving.governance_routes import governance_router
from cairn.serving.log_records import OUTCOME_SCHEMA, PREDICTION_SCHEMA
from cairn.serving.prediction_log import Durability, SegmentLog
from cairn.serving.predictor import Predictor
from cairn.serving.protocols import EntityRow

if TYPE_CHECKING:
    from cairn.app.stream_status import StreamWatch

REPO_ENV = "CAIRN_REPO"
"""The project folder of :func:`app_from_env` (set by ``cairn serve`` for its workers)."""
RETRY_SECONDS = 10.0
"""How long a rollout whose models failed to load waits before the next try."""
REFRESH_SECONDS = 10.0
"""How often a server re-reads the applied definitions (so `cairn apply` needs no restart)."""

logger = logging.getLogger("cairn.serving")


def build_app(
    repo_path: str | Path = ".",
    *,
    limits: ServingLimits | None = None,
    durability: Durability | None = None,
    project: Project | None = None,
) -> FastAPI:
    """The HTTP app serving the project at ``repo_path`` (or the opened ``project``).

    With a ``deployments.yaml`` in the project, it also scores: models are loaded from the
    registry and warmed here, before the app takes traffic. Background loops start with the
    app's lifespan (when a server runs it), not here.

    A missing or invalid ``cairn.yaml``, setting or online store URL fails here, before serving
    starts; an online store that does not answer only makes ``/readyz`` report 503.

    Example
    -------
    >>> import tempfile, pathlib
    >>> repo = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (repo / "cairn.yaml").write_text("project: demo")
    >>> [path for path in build_app(repo).openapi()["paths"] if path.startswith("/v1")][:3]
    ['/v1/features/online', '/v1/auth/whoami', '/v1/auth/tokens']
    """
    project = project or Project.open(repo_path)
    options = server_options(project.settings)
    store = project.features
    online = store.online  # opens the store now, so a bad URL is a startup error

    def read(
        features: list[str], entity_rows: list[EntityRow], full_feature_names: bool
    ) -> dict[str, list[Any]]:
        return store.get_online_features(features, entity_rows, full_feature_names).to_dict()

    def freshness() -> Mapping[str, Mapping[str, Micros | None]]:
        return online.freshness(store.applied_views())

    try:  # warm definitions and source schemas so the first request does not pay for them
        for applied in store.applied_views().values():
            online.warm(applied)
    except Exception as exc:
        logger.warning("Could not load the applied definitions yet: %s", exc)
    refresh = PeriodicTask("refresh", REFRESH_SECONDS, lambda: _refresh(project))
    # env tokens, the project's API tokens and OIDC/JWT bearer tokens (checked per request)
    tokens = options.admin_tokens.with_authenticator(project.authenticate)
    # SQLite answers in microseconds: reading on the event loop beats a thread hop (~0.1 ms).
    # A networked store (Redis) could stall the loop for its timeout, so it reads in threads.
    offload = not online.store.url.startswith("sqlite")
    limits = limits or options.limits
    streams = _stream_watch(project)
    max_lag = project.settings.streaming.max_lag_seconds

    def ready_features() -> None:
        online.store.ping()
        if streams is not None:
            streams.check_ready(max_lag)

    deployments = project.deployments()
    if not deployments:
        app = create_app(
            read,
            freshness=freshness,
            ready=ready_features,
            limits=limits,
            offload=offload,
            background=[refresh],
        )
        app.include_router(governance_router(project, tokens))
        _register_streams(app, streams)
        mount_dashboard(app, project, tokens)
        return app
    mode: Durability = durability or options.durability
    log = project.predictions
    predictor = Predictor(
        deployments,
        RegistryModelLoader(project.tracker, project.registry),
        read,
        SegmentLog(log.predictions_dir, PREDICTION_SCHEMA, durability=mode),
        books=reason_books(project.root, deployments),
        offload=offload,  # the feature budget applies to networked stores (Redis)
        shadow_queue=options.shadow_queue,
    )
    rollouts = project.rollout_store
    stamp, specs = _read_rollouts(rollouts)
    predictor.apply_rollouts(specs)  # load and warm every model before the first request

    def ready() -> None:
        ready_features()
        predictor.ready()

    app = create_app(
        read,
        freshness=freshness,
        ready=ready,
        limits=limits,
        offload=offload,
        predictor=predictor,
        outcomes=SegmentLog(log.outcomes_dir, OUTCOME_SCHEMA, durability=mode),
        admin_token=tokens,
        rollouts=project.rollouts,
        background=[
            refresh,
            # logs and keeps the loaded models when MLflow is down
            PeriodicTask("model-poll", options.model_poll_seconds, predictor.refresh),
            PeriodicTask(
                "rollout-poll",
                options.rollout_poll_seconds,
                RolloutPoller(predictor, rollouts, stamp),
            ),
        ],
    )
    app.include_router(governance_router(project, tokens))
    # the latest drift and performance results of `cairn monitor run`, read at scrape time
    app.state.metrics.registry.register(monitoring_collector(project.metadata, project.name))
    # the retraining policies' slots, cooldowns, budgets and ledgers, read at scrape time
    app.state.metrics.registry.register(retraining_collector(project))
    _register_streams(app, streams)
    mount_dashboard(app, project, tokens)
    return app


def mount_dashboard(app: FastAPI, project: Project, tokens: AdminTokens) -> None:
    """Mount the dashboard (:mod:`cairn.ui.web`) at ``/ui``: its pages need a viewer token
    (the ``Authorization`` header, or the cookie its ``/ui/login`` form sets), and its
    actions (switch, roll back, promote) the role the admin route needs, from the same
    tokens."""
    from cairn.ui.web import dashboard_app

    viewer = lambda h: tokens.require(h, "viewer")  # noqa: E731
    app.mount("/ui", dashboard_app(project, authorize=viewer, sign_in=tokens.require))


def _stream_watch(project: Project) -> StreamWatch | None:
    """A watch over the project's stream sources (None when no view reads one)."""
    from cairn.features.source import is_stream

    try:
        views = project.features.applied_views().values()
    except Exception:  # definitions not applied yet: no streams to watch
        return None
    if not any(is_stream(a.view.source) for a in views):
        return None
    from cairn.app.stream_status import StreamWatch

    return StreamWatch(project.features)


def _register_streams(app: Any, streams: StreamWatch | None) -> None:
    if streams is None:
        return
    from cairn.streams.metrics import StreamCollector

    app.state.metrics.registry.register(StreamCollector(streams.status))


def check_project(repo_path: str | Path) -> ServerOptions:
    """Fail fast, cheaply, on what would stop every worker: ``cairn.yaml``, the server settings
    and ``deployments.yaml`` are read and checked; nothing is loaded or started (``cairn serve
    --workers N`` calls this in the parent, which builds no app)."""
    project = Project.open(repo_path)
    options = server_options(project.settings)
    project.deployments()
    return options


def _refresh(project: Project) -> None:
    store = project.features
    store.refresh()
    store.applied_views()


def _read_rollouts(rollouts: RolloutStore) -> tuple[int | None, dict[str, RolloutSpec]]:
    """The store's stamp and every current rollout (none, logged, when it cannot be read)."""
    try:
        stamp = rollouts.stamp()  # first: a change landing meanwhile is read again next poll
        return stamp, _valid(rollouts)
    except Exception as exc:  # a database that is down
        logger.warning("Could not read the rollouts; serving deployments.yaml: %s", exc)
        return None, {}


def _valid(rollouts: RolloutStore, predictor: Predictor | None = None) -> dict[str, RolloutSpec]:
    """The current rollouts that validate; each one that does not is logged, and its
    deployment keeps the rollout it serves (at start: its ``deployments.yaml`` model)."""
    specs, invalid = rollouts.read_current()
    for name, exc in invalid.items():
        logger.error("%s", exc)
        if predictor is not None and name in predictor.deployments:
            specs[name] = predictor.rollout(name)
    return specs


class RolloutPoller:
    """One poll of the rollout store: apply changed rollouts (one ``stamp()`` query per poll,
    the specs only when it moved; a rollout whose models failed to load is retried every
    :data:`RETRY_SECONDS`)."""

    def __init__(self, predictor: Predictor, rollouts: RolloutStore, stamp: int | None) -> None:
        self.predictor = predictor
        self.rollouts = rollouts
        self.last = stamp
        self.retry_at = 0.0

    def __call__(self) -> None:
        predictor = self.predictor
        retry = bool(predictor.unapplied) and time.monotonic() >= self.retry_at
        try:
            now = self.rollouts.stamp()
            if now == self.last and not retry:
                return
            changed = predictor.apply_rollouts(_valid(self.rollouts, predictor))
        except Exception as exc:  # keep serving the current rollouts
            logger.warning("Could not apply the rollouts; serving the current ones: %s", exc)
            return
        self.last = now
        for name in changed:
            logger.info("Deployment %s now serves %s", name, predictor.rollout(name).strategy)
        for name, why in predictor.unapplied.items():
            logger.warning("Rollout of %s not applied yet: %s", name, why)
        self.retry_at = time.monotonic() + RETRY_SECONDS


def app_from_env() -> FastAPI:
    """:func:`build_app` for the project named by ``CAIRN_REPO`` (uvicorn's ``--factory``
    entry point when serving with several worker processes: each worker builds its own)."""
    app = build_app(process_settings().repo)
    freeze_heap()
    return app


def freeze_heap() -> None:
    """Move everything loaded at start-up (models, definitions, libraries) out of the garbage
    collector's reach: full collections then scan only request garbage, which removes the
    ~100 ms pauses that otherwise set the p99 latency."""
    gc.collect()
    gc.freeze()
