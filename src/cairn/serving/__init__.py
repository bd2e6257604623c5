"""Serving: the HTTP API over online features (predictions and routing come next).

:func:`create_app` builds a FastAPI app from plain callables — a feature reader, a freshness
probe, a readiness probe — so this package never imports the feature store; ``cairn.app``
wires the concrete ones (``cairn.app.server.build_app``). Endpoints: ``POST
/v1/features/online``, ``/healthz``, ``/readyz``, ``/metrics`` and ``/openapi.json``. Bad
input answers 4xx with ``{"error": {"type", "message"}}``, never 500.
"""

from __future__ import annotations

from cairn.serving.app import create_app
from cairn.serving.errors import ApiError
from cairn.serving.metrics import ServingMetrics
from cairn.serving.protocols import FeatureReader, Freshness, FreshnessProbe, ReadinessProbe
from cairn.serving.request import ServingLimits

__all__ = [
    "ApiError",
    "FeatureReader",
    "Freshness",
    "FreshnessProbe",
    "ReadinessProbe",
    "ServingLimits",
    "ServingMetrics",
    "create_app",
]
