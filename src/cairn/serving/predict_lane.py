"""The predict route's fast lane: ``POST /v1/predict/{deployment}`` (and ``/batch``) answered
by a plain ASGI layer, without FastAPI's routing and dependency solving.

The predict routes take the raw request and answer a prepared response, so FastAPI adds
nothing to them but its per-request work: matching the path against every route, solving
the route's parameters, two more middleware layers and their ``send`` wrappers (about a third
of the CPU of a predict request). This layer sits inside
:class:`~cairn.serving.middleware.ObserveMiddleware` (request metrics, the 500 answer to a
bug) and answers a ``POST`` whose path is ``/v1/predict/<name>`` or ``/v1/predict/<name>/batch``
(``<name>`` one non-empty path segment, no ``root_path``) with the routes' own code
(:func:`cairn.serving.predict.answer_predict`) and the app's own error answers
(:func:`cairn.serving.errors.refusal`); every other request goes on to the app. The routes
stay registered: they document the API (``/openapi.json``) and serve any request this layer
leaves alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from cairn.core.errors import CairnError
from cairn.serving.errors import ApiError, refusal
from cairn.serving.predict import answer_predict
from cairn.serving.predictor import Predictor
from cairn.serving.request import ServingLimits

PREFIX = "/v1/predict/"
BATCH = "/batch"


@dataclass(frozen=True)
class LaneRoute:
    """What the lane puts in ``scope["route"]``: the route template the request metrics are
    labelled with, as the router would have."""

    path: str


ROUTE = LaneRoute(PREFIX + "{deployment}")
BATCH_ROUTE = LaneRoute(PREFIX + "{deployment}" + BATCH)


def lane_target(scope: Scope) -> tuple[str, bool] | None:
    """``(deployment, batch)`` for a request the lane answers, else None.

    Example
    -------
    >>> lane_target({"type": "http", "method": "POST", "path": "/v1/predict/credit"})
    ('credit', False)
    >>> lane_target({"type": "http", "method": "POST", "path": "/v1/predict/credit/batch"})
    ('credit', True)
    >>> lane_target({"type": "http", "method": "GET", "path": "/v1/predict/credit"}) is None
    True
    >>> lane_target({"type": "http", "method": "POST", "path": "/v1/predict/a/b"}) is None
    True
    """
    if scope["type"] != "http" or scope.get("method") != "POST" or scope.get("root_path"):
        return None
    path: str = scope.get("path", "")
    if not path.startswith(PREFIX):
        return None
    name = path[len(PREFIX) :]
    batch = name.endswith(BATCH)
    if batch:
        name = name[: -len(BATCH)]
    if not name or "/" in name:
        return None
    return name, batch


class PredictLane:
    """Answer the predict routes directly (see the module); pass everything else on."""

    def __init__(self, app: ASGIApp, predictor: Predictor, limits: ServingLimits) -> None:
        self.app = app
        self.predictor = predictor
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        target = lane_target(scope)
        if target is None:
            await self.app(scope, receive, send)
            return
        name, batch = target
        scope["route"] = BATCH_ROUTE if batch else ROUTE
        request = Request(scope, receive)
        try:
            response = await answer_predict(self.predictor, self.limits, name, request, batch=batch)
        except (ApiError, CairnError) as exc:
            response = await refusal(request, exc)
        await response(scope, receive, send)
