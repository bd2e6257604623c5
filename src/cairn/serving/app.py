"""The ASGI app factory: routes, error envelope and metrics around the callables it is given."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from cairn.core.background import Lifecycle
from cairn.core.version import package_version
from cairn.serving.admin import AdminTokens, RolloutAdmin, admin_router
from cairn.serving.errors import install_error_handlers
from cairn.serving.features import features_router
from cairn.serving.metrics import ServingMetrics
from cairn.serving.middleware import ObserveMiddleware
from cairn.serving.predict import predict_router
from cairn.serving.predict_lane import PredictLane
from cairn.serving.prediction_log import SegmentLog
from cairn.serving.prediction_metrics import PredictionMetrics
from cairn.serving.predictor import Predictor
from cairn.serving.probes import probes_router
from cairn.serving.protocols import FeatureReader, FreshnessProbe, ReadinessProbe
from cairn.serving.request import ServingLimits


def create_app(
    features: FeatureReader,
    *,
    freshness: FreshnessProbe | None = None,
    ready: ReadinessProbe | None = None,
    limits: ServingLimits | None = None,
    offload: bool = False,
    predictor: Predictor | None = None,
    outcomes: SegmentLog | None = None,
    admin_token: AdminTokens | str | None = None,
    rollouts: RolloutAdmin | None = None,
    background: Sequence[Lifecycle] = (),
) -> FastAPI:
    """Build the HTTP API (OpenAPI at ``/openapi.json``).

    Parameters
    ----------
    features:
        Reads online features (see :class:`~cairn.serving.FeatureReader`).
    freshness:
        Per-view watermarks for the ``cairn_feature_*`` gauges; None leaves them out.
    ready:
        Raises when the online store does not answer; ``/readyz`` answers 503 then.
    limits:
        Request size bounds (default: 10,000 entities, 1,000 features, 8 MiB).
    offload:
        Read features in the thread pool rather than on the event loop.
    predictor, outcomes:
        The predict path and the outcome log; with them the app also answers
        ``/v1/predict/...``, ``/v1/explanations/...``, ``/v1/outcomes`` and ``/v1/deployments``,
        and flushes both logs in the background while it runs.
    admin_token:
        The admin bearer tokens with their roles, or one token with every role (None: admin
        endpoints refuse).
    rollouts:
        The rollout service; with it the app also answers the admin routes
        ``/v1/deployments/{name}/rollout[...]`` (:mod:`cairn.serving.admin`).
    background:
        Loops the app runs while it serves (pollers, controllers): started in the ASGI
        lifespan after the logs open, stopped first at shutdown, so no thread outlives the app.

    Example
    -------
    >>> def reader(features, rows, full):
    ...     return {"customer_id": [r["customer_id"] for r in rows], "found": [False] * len(rows)}
    >>> app = create_app(reader)
    >>> sorted(app.openapi()["paths"])
    ['/healthz', '/metrics', '/readyz', '/v1/features/online']
    """
    limits = limits or ServingLimits()
    metrics = ServingMetrics(freshness)
    logs = [log for log in (predictor.log if predictor else None, outcomes) if log is not None]

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        for log in logs:
            log.start()
        for task in background:
            task.start()
        try:
            yield
        finally:
            for task in reversed(background):
                await run_in_threadpool(task.stop)
            if predictor is not None:  # score what the shadow queue holds before logs close
                await run_in_threadpool(predictor.shadow.close)
            for log in logs:
                log.close()

    app = FastAPI(
        title="Cairn",
        lifespan=lifespan,
        version=package_version(),
        description="Online features, predictions and model operations.",
        docs_url=None,  # the interactive docs load scripts from a CDN; the schema is enough
        redoc_url=None,
    )
    install_error_handlers(app)
    app.include_router(features_router(features, limits, offload=offload))
    if predictor is not None and outcomes is not None:
        predictor.metrics = PredictionMetrics(metrics.values)
        app.include_router(predict_router(predictor, outcomes, limits, admin_token))
    if rollouts is not None:
        app.include_router(admin_router(rollouts, AdminTokens.of(admin_token)))
    app.include_router(probes_router(metrics, ready, predictor.refused if predictor else None))
    if predictor is not None and outcomes is not None:  # inside ObserveMiddleware (added last)
        app.add_middleware(PredictLane, predictor=predictor, limits=limits)
    app.add_middleware(ObserveMiddleware, metrics=metrics)
    app.state.metrics = metrics
    return app
