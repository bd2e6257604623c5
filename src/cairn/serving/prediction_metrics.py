"""Prometheus metrics of the predict path, per deployment and arm."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from cairn.serving.metrics import LATENCY_BUCKETS


class PredictionMetrics:
    """``cairn_predictions_total``, ``cairn_prediction_latency_seconds``,
    ``cairn_prediction_fallbacks_total``, ``cairn_prediction_errors_total``,
    ``cairn_prediction_arm_errors_total`` and ``cairn_shadow_dropped_total``.

    Example
    -------
    >>> from prometheus_client import generate_latest
    >>> m = PredictionMetrics(CollectorRegistry())
    >>> m.observe("credit", "main", "decline", 0.002)
    >>> line = b'cairn_predictions_total{arm="main",decision="decline",deployment="credit"} 1.0'
    >>> line in generate_latest(m.registry)
    True
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.predictions = Counter(
            "cairn_predictions",
            "Predictions answered.",
            ("deployment", "arm", "decision"),
            registry=registry,
        )
        self.latency = Histogram(
            "cairn_prediction_latency_seconds",
            "Time to score one prediction request (features, model, explanation, log).",
            ("deployment", "arm"),
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.fallbacks = Counter(
            "cairn_prediction_fallbacks",
            "Rows scored by a fallback.",
            ("deployment", "reason"),
            registry=registry,
        )
        self.errors = Counter(
            "cairn_prediction_errors",
            "Predict requests refused.",
            ("deployment", "type"),
            registry=registry,
        )
        self.shadow_dropped = Counter(
            "cairn_shadow_dropped",
            "Rows not shadow-scored because the shadow queue was full.",
            ("deployment",),
            registry=registry,
        )
        self.arm_errors = Counter(
            "cairn_prediction_arm_errors",
            "Rows whose arm model failed and the control model answered.",
            ("deployment", "arm"),
            registry=registry,
        )

    def observe(self, deployment: str, arm: str, decision: str, seconds: float) -> None:
        """Count one prediction."""
        self.predictions.labels(deployment, arm, decision).inc()
        self.latency.labels(deployment, arm).observe(seconds)

    def fallback(self, deployment: str, reason: str, rows: int) -> None:
        """Count rows scored by a fallback."""
        self.fallbacks.labels(deployment, reason).inc(rows)

    def error(self, deployment: str, type_: str) -> None:
        """Count a refused request."""
        self.errors.labels(deployment, type_).inc()

    def dropped(self, deployment: str, rows: int) -> None:
        """Count rows the full shadow queue dropped."""
        self.shadow_dropped.labels(deployment).inc(rows)

    def arm_error(self, deployment: str, arm: str, rows: int) -> None:
        """Count rows whose arm model failed (answered by the control model)."""
        self.arm_errors.labels(deployment, arm).inc(rows)
