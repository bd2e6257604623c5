"""The outermost layer of our own: times and counts every request, and turns a bug into a 500
JSON answer with a request id (logged with its traceback) instead of a bare text page.

A plain ASGI middleware, not ``BaseHTTPMiddleware``: it adds a few microseconds, not a task.
"""

from __future__ import annotations

import logging
import time

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cairn.serving.errors import internal_error, request_id
from cairn.serving.metrics import ServingMetrics

logger = logging.getLogger("cairn.serving")


class ObserveMiddleware:
    """Record ``cairn_http_*`` metrics per route template, method and status.

    Requests that match no route are counted under the route ``"unmatched"`` (raw paths would
    let any client create unbounded label values); a caller that disconnects before its body
    arrived is counted with status 499.
    """

    def __init__(self, app: ASGIApp, metrics: ServingMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        started = False

        async def send_observed(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status = message["status"]
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_observed)
        except ClientDisconnect:  # the caller left before sending its whole body
            status = 499
        except Exception:
            headers = {
                k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", ())
            }
            rid = request_id(headers)
            logger.exception(
                "Unhandled error on %s %s (request id %s)",
                scope.get("method"),
                scope.get("path"),
                rid,
            )
            if started:  # too late for a clean answer: let the server drop the connection
                raise
            await internal_error(rid)(scope, receive, send_observed)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.observe(
                route, scope.get("method", ""), status, time.perf_counter() - start
            )
