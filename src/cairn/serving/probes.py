"""``/healthz`` (the process answers), ``/readyz`` (the online store answers), ``/metrics``.

With a predictor, ``/readyz`` also lists the model versions the server refused to load
(``refused``, :mod:`cairn.serving.refusals`): 200 while every deployment still serves a loaded
version, 503 when one has no model at all; ``/metrics`` then exports ``cairn_model_refused``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.responses import Response

from cairn.core.errors import CairnError
from cairn.serving.errors import error_response
from cairn.serving.metrics import ServingMetrics
from cairn.serving.protocols import ReadinessProbe
from cairn.serving.refusals import RefusalCollector
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
_REFUSED: dict[str, Any] = {
    "type": "array",
    "description": "Model versions this server refused to load (a tampered artifact, a load "
    "failure), per deployment that needs them; ``serving`` is the version it serves instead "
    "(null: none). Present when the server scores.",
    "items": {
        "type": "object",
        "required": ["deployment", "ref", "model", "version", "reason", "serving"],
        "properties": {
            "deployment": {"type": "string"},
            "ref": {"type": "string", "examples": ["credit-default@champion"]},
            "model": {"type": "string"},
            "version": {"type": "string"},
            "reason": {"type": "string"},
            "serving": {"type": ["string", "null"]},
        },
    },
}
_READY = {
    "description": "Ready (refused versions listed, if any, while loaded ones serve)",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["status"],
                "properties": {"status": {"type": "string"}, "refused": _REFUSED},
            }
        }
    },
}
_NOT_READY = {
    "description": "Not ready (the online store does not answer, or a deployment has no model)",
    "content": {
        "application/json": {
            "schema": {
                **ERROR,
                "properties": {**ERROR["properties"], "refused": _REFUSED},
            }
        }
    },
}


def probes_router(
    metrics: ServingMetrics,
    ready: ReadinessProbe | None,
    refused: Callable[[], list[dict[str, Any]]] | None = None,
) -> APIRouter:
    """Liveness, readiness and the Prometheus endpoint (``refused``: the refused model
    versions, listed by ``/readyz`` and exported as ``cairn_model_refused``)."""
    router = APIRouter()
    if refused is not None:
        metrics.registry.register(RefusalCollector(refused))

    @router.get("/healthz", summary="Liveness", response_class=Response, responses={200: _OK})
    async def healthz() -> Response:
        return json_response({"status": "ok"})

    @router.get(
        "/readyz",
        summary="Readiness: the online store answers",
        response_class=Response,
        responses={200: _READY, 503: _NOT_READY},
    )
    def readyz() -> Response:  # sync: FastAPI runs it in the thread pool (the ping may block)
        extra = {} if refused is None else {"refused": refused()}
        if ready is not None:
            try:
                ready()
            except Exception as exc:
                log = logger.warning if isinstance(exc, CairnError) else logger.exception
                log("Not ready: %s", exc)
                if not extra:
                    return error_response(503, "not_ready", f"Not ready: {exc}")
                error = {"type": "not_ready", "message": f"Not ready: {exc}"}
                return json_response({"error": error, **extra}, 503)
        return json_response({"status": "ready", **extra})

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
