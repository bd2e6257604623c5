"""Prometheus metrics of the predict path, per deployment and arm."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from cairn.serving.metrics import LATENCY_BUCKETS

_MAX_CHILDREN = 10_000
"""Label sets whose children :meth:`PredictionMetrics.observe` keeps (deployments x arms x
decisions: a handful; the bound only guards memory)."""


class PredictionMetrics:
    """``cairn_predictions_total``, ``cairn_prediction_latency_seconds``,
    ``cairn_prediction_fallbacks_total``, ``cairn_prediction_errors_total``,
    ``cairn_prediction_arm_errors_total`` and ``cairn_shadow_dropped_total``.

    Example
    -------
    >>> from prometheus_client import generate_latest
    >>> m = PredictionMetrics(CollectorRegistry())
    >>> m.observe("outreach", "main", "follow_up", 0.002, positive=True)
    >>> line = (b'cairn_predictions_total{arm="main",decision="follow_up",deployment="outreach",'
    ...         b'positive="true"} 1.0')
    >>> line in generate_latest(m.registry)
    True

    ``decision`` is the deployment's own decision name; ``positive`` says whether it is the
    deployment's positive decision (``score >= threshold``), so one query covers every
    deployment (``sum by (deployment) (rate(cairn_predictions_total{positive="true"}[5m]))``).
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.predictions = Counter(
            "cairn_predictions",
            "Predictions answered, by the deployment's decision (positive: score >= threshold).",
            ("deployment", "arm", "decision", "positive"),
            registry=registry,
        )
        self.latency = Histogram(
            "cairn_prediction_latency_seconds",
            "Per-row latency: each row's share of its request's feature read and model time "
            "(a batch's time divided by its rows).",
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
        self._children: dict[tuple[str, str, str, bool | None], tuple[Counter, Histogram]] = {}

    def observe(
        self,
        deployment: str,
        arm: str,
        decision: str,
        seconds: float,
        *,
        positive: bool | None = None,
    ) -> None:
        """Count one prediction (``positive`` None: not known, the label is left empty)."""
        key = (deployment, arm, decision, positive)
        pair = self._children.get(key)
        if pair is None:  # labels() takes a lock and builds a tuple; cache the children
            flag = "" if positive is None else str(bool(positive)).lower()
            pair = (
                self.predictions.labels(deployment, arm, decision, flag),
                self.latency.labels(deployment, arm),
            )
            if len(self._children) < _MAX_CHILDREN:
                self._children[key] = pair
        pair[0].inc()
        pair[1].observe(seconds)

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
