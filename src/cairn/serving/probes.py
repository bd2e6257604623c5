"""``/healthz`` (the process answers), ``/readyz`` (the online store answers), ``/metrics``."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.responses import Response

from cairn.core.errors import CairnError
from cairn.serving.errors import error_response
from cairn.serving.metrics import ServingMetrics
from cairn.serving.protocols import ReadinessProbe
from cairn.serving.responses import json_response
from cairn.serving.schemas import ERROR

logger = logging.getLogger("cairn.serving")
_OK = {
    "description": "OK",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["status"],
                "properties": {"status": {"type": "string"}},
            }
        }
    },
}


def probes_router(metrics: ServingMetrics, ready: ReadinessProbe | None) -> APIRouter:
    """Liveness, readiness and the Prometheus endpoint."""
    router = APIRouter()

    @router.get("/healthz", summary="Liveness", response_class=Response, responses={200: _OK})
    async def healthz() -> Response:
        return json_response({"status": "ok"})

    @router.get(
        "/readyz",
        summary="Readiness: the online store answers",
        response_class=Response,
        responses={
            200: _OK,
            503: {"description": "Not ready", "content": {"application/json": {"schema": ERROR}}},
        },
    )
    def readyz() -> Response:  # sync: FastAPI runs it in the thread pool (the ping may block)
        if ready is not None:
            try:
                ready()
            except Exception as exc:
                log = logger.warning if isinstance(exc, CairnError) else logger.exception
                log("Not ready: %s", exc)
                return error_response(503, "not_ready", f"Not ready: {exc}")
        return json_response({"status": "ready"})

    @router.get(
        "/metrics",
        summary="Prometheus metrics",
        response_class=Response,
        responses={
            200: {
                "description": "Prometheus text format",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            }
        },
    )
    def prometheus() -> Response:  # sync: the freshness probe reads the metadata store
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    return router
