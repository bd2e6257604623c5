"""Every failure becomes ``{"error": {"type": ..., "message": ...}}`` with the right status.

Bad input is a 4xx naming the input, what was expected and what was received; an unreachable
online store is a 503; only a bug is a 500, answered with a request id that is also logged
(see :mod:`cairn.serving.middleware`).

==========================  ======  ==========================
Error                       Status  ``type``
==========================  ======  ==========================
UnknownFeatureError         422     ``unknown_feature``
EntityDataFrameError        422     ``invalid_entities``
DefinitionError, DataError  422     ``invalid_request``
OnlineStoreError            503     ``online_store_unavailable``
SourceError                 500     ``source_error``
ConfigError                 500     ``config_error``
DependencyMissingError      500     ``dependency_missing``
malformed body (ApiError)   422     ``invalid_request`` (invalid JSON, NaN/Infinity,
                                    nesting deeper than 32 levels, a non-number feature)
too many entities           422     ``too_many_entities`` (``too_many_features``)
body too large              413     ``payload_too_large``
==========================  ======  ==========================
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Mapping

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from cairn.core.errors import (
    ArtifactTamperedError,
    CairnError,
    ConfigError,
    DataError,
    DefinitionError,
    DependencyMissingError,
    EntityDataFrameError,
    OnlineStoreError,
    SourceError,
    UnknownFeatureError,
)
from cairn.serving.responses import json_response

logger = logging.getLogger("cairn.serving")

_STATUS: dict[type[CairnError], tuple[int, str]] = {
    UnknownFeatureError: (422, "unknown_feature"),
    EntityDataFrameError: (422, "invalid_entities"),
    SourceError: (500, "source_error"),
    DataError: (422, "invalid_request"),
    DefinitionError: (422, "invalid_request"),
    OnlineStoreError: (503, "online_store_unavailable"),
    ConfigError: (500, "config_error"),
    DependencyMissingError: (500, "dependency_missing"),
    ArtifactTamperedError: (503, "model_artifact_refused"),
}
_HTTP_TYPES = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}


class ApiError(Exception):
    """A request the API refuses: its status, a stable ``type`` and one clear line.

    Example
    -------
    >>> ApiError(422, "invalid_request", "features must be an array").status_code
    422
    """

    def __init__(self, status_code: int, type_: str, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.type = type_
        self.message = message


def error_response(
    status_code: int, type_: str, message: str, headers: Mapping[str, str] | None = None
) -> Response:
    """The JSON error envelope.

    Example
    -------
    >>> error_response(422, "unknown_feature", "no view named x").body
    b'{"error":{"type":"unknown_feature","message":"no view named x"}}'
    """
    return json_response({"error": {"type": type_, "message": message}}, status_code, headers)


def classify(exc: CairnError) -> tuple[int, str]:
    """The status and ``type`` of a Cairn error (the most specific class listed wins).

    Example
    -------
    >>> classify(UnknownFeatureError("no view 'x'"))
    (422, 'unknown_feature')
    """
    for cls in type(exc).__mro__:
        if cls in _STATUS:
            return _STATUS[cls]
    return 500, "internal_error"


def request_id(request_headers: Mapping[str, str] | None = None) -> str:
    """The caller's ``X-Request-ID`` when it sent a sane one, else a new random id."""
    given = (request_headers or {}).get("x-request-id", "")
    if 0 < len(given) <= 128 and given.isprintable():
        return given
    return uuid.uuid4().hex


def internal_error(rid: str) -> Response:
    """The 500 answer to a bug: no internals, only the id to find it in the log."""
    return error_response(
        500,
        "internal_error",
        f"Internal error; the server log has the details under request id {rid}.",
        headers={"X-Request-ID": rid},
    )


async def _cairn_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CairnError)
    status, type_ = classify(exc)
    if status >= 500:
        rid = request_id(request.headers)
        log = logger.error if status == 503 else logger.exception
        log("%s %s failed (request id %s): %s", request.method, request.url.path, rid, exc)
        return error_response(status, type_, str(exc), headers={"X-Request-ID": rid})
    return error_response(status, type_, str(exc))


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc.status_code, exc.type, exc.message)


async def refusal(request: Request, exc: ApiError | CairnError) -> Response:
    """The answer the app's error handlers give to ``exc`` (for code that answers outside the
    router: :class:`cairn.serving.predict_lane.PredictLane`)."""
    if isinstance(exc, ApiError):
        return await _api_error(request, exc)
    return await _cairn_error(request, exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    type_ = _HTTP_TYPES.get(exc.status_code, "http_error")
    if exc.status_code == 404:
        message = f"No route {request.method} {request.url.path}; see /openapi.json."
    elif exc.status_code == 405:
        allowed = allowed_methods(request)
        message = (
            f"{request.url.path} does not accept {request.method}; it accepts "
            f"{', '.join(allowed)} (see /openapi.json)."
        )
        return error_response(405, type_, message, headers={"Allow": ", ".join(allowed)})
    else:
        message = str(exc.detail)
    return error_response(exc.status_code, type_, message, headers=exc.headers)


def allowed_methods(request: Request) -> list[str]:
    """Every method the published API accepts at this path.

    Starlette's own ``Allow`` names only the first route that matched the path, so a path
    served by a GET route and a POST route would answer a PUT with ``Allow: GET``; the OpenAPI
    document is the contract clients read, so the answer comes from it.
    """
    table: list[tuple[re.Pattern[str], set[str]]] | None = getattr(
        request.app.state, "cairn_allow", None
    )
    if table is None:
        table = [
            (_template(path), {m.upper() for m in item if m.upper() in _METHODS})
            for path, item in request.app.openapi().get("paths", {}).items()
        ]
        request.app.state.cairn_allow = table
    path = request.url.path
    return sorted({m for pattern, methods in table if pattern.fullmatch(path) for m in methods})


_METHODS = {"GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"}


def _template(path: str) -> re.Pattern[str]:
    """``/v1/predict/{deployment}`` as a regular expression (``{x:path}`` spans slashes)."""
    parts = re.split(r"(\{[^}]+\})", path)
    return re.compile(
        "".join(
            (".+" if p.endswith(":path}") else "[^/]+") if p.startswith("{") else re.escape(p)
            for p in parts
        )
    )


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ()))
    return error_response(422, "invalid_request", f"{where}: {first.get('msg', 'invalid')}.")


def install_error_handlers(app: FastAPI) -> None:
    """Register the JSON error envelope for Cairn's errors, API refusals and HTTP errors."""
    app.add_exception_handler(CairnError, _cairn_error)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
