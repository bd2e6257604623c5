"""``POST /v1/features/online``: online feature values for entity rows, over HTTP."""

from __future__ import annotations

import time

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from cairn.serving.protocols import FeatureReader
from cairn.serving.request import ServingLimits, parse_online_request, read_body
from cairn.serving.responses import json_response
from cairn.serving.schemas import (
    ONLINE_FEATURES_RESPONSE,
    error_responses,
    online_features_request,
)


def features_router(
    reader: FeatureReader, limits: ServingLimits, *, offload: bool = False
) -> APIRouter:
    """The online-features route over ``reader``.

    Parameters
    ----------
    reader:
        Reads the features (wired by the composition root).
    limits:
        Request size bounds.
    offload:
        Run the reader in the thread pool (for stores with network round trips) instead of on
        the event loop (the embedded SQLite store answers in microseconds).
    """
    router = APIRouter()

    @router.post(
        "/v1/features/online",
        summary="Online feature values",
        description="Values of 'view:feature' references for entity rows, equal to the "
        "offline point-in-time join at the time of the request.",
        response_class=Response,
        responses={
            200: {
                "description": "One value per entity for each column.",
                "content": {"application/json": {"schema": ONLINE_FEATURES_RESPONSE}},
            },
            **error_responses(413, 422, 503),
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": online_features_request(limits)}},
            }
        },
    )
    async def online_features(request: Request) -> Response:
        body = await read_body(
            request.headers.get("content-length"), request.stream(), limits.max_body_bytes
        )
        parsed = parse_online_request(body, limits)
        start = time.perf_counter()
        if offload:
            result = await run_in_threadpool(
                reader, parsed.features, parsed.entity_rows, parsed.full_feature_names
            )
        else:
            result = reader(parsed.features, parsed.entity_rows, parsed.full_feature_names)
        elapsed_ms = (time.perf_counter() - start) * 1000
        columns = dict(result)
        found = columns.pop("found", [])
        return json_response(
            {"features": columns, "found": found, "latency_ms": round(elapsed_ms, 3)}
        )

    return router
