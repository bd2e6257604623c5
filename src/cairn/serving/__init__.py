"""Serving: the HTTP API over online features and deployed models.

:func:`create_app` builds a FastAPI app from plain callables — a feature reader, a freshness
probe, a readiness probe — and, optionally, a :class:`Predictor` (deployments bound to
registry aliases, scored with the native booster, explained with TreeSHAP reason codes and
logged to a crash-safe :class:`SegmentLog`). This package never imports the feature store,
tracking or training: ``cairn.app`` wires the concrete ones (``cairn.app.server.build_app``,
with a :class:`ModelLoader` over the registry). Endpoints: ``POST /v1/features/online``,
``POST /v1/predict/{deployment}`` (and ``/batch``), ``GET /v1/explanations/{id}``,
``POST /v1/outcomes``, ``GET /v1/deployments``, ``POST /v1/deployments/reload`` (admin),
``/healthz``, ``/readyz``, ``/metrics`` and ``/openapi.json``. Bad input answers 4xx with
``{"error": {"type", "message"}}``, never 500.
"""

from __future__ import annotations

from cairn.core.deployments import Deployment, Fallback, load_deployments
from cairn.serving.app import create_app
from cairn.serving.errors import ApiError
from cairn.serving.metrics import ServingMetrics
from cairn.serving.models import ModelLoader, ScoringModel
from cairn.serving.prediction_log import SegmentLog
from cairn.serving.predictor import Predictor
from cairn.serving.protocols import FeatureReader, Freshness, FreshnessProbe, ReadinessProbe
from cairn.serving.request import ServingLimits

__all__ = [
    "ApiError",
    "Deployment",
    "Fallback",
    "FeatureReader",
    "Freshness",
    "FreshnessProbe",
    "ModelLoader",
    "Predictor",
    "ReadinessProbe",
    "ScoringModel",
    "SegmentLog",
    "ServingLimits",
    "ServingMetrics",
    "create_app",
    "load_deployments",
]
