"""The monitoring signal: what monitoring hands to retraining and to people (DESIGN §1).

A :class:`MonitoringSignal` says that one thing watched for one deployment left its stable
band in one window: a model input drifted (``drift``), the score distribution drifted
(``score_drift``), or the realized performance fell below the training baseline
(``performance``). Monitoring writes them with its results; the retraining work reads them as
plain values, so it never imports monitoring. Nothing here imports any other part of Cairn.

Example
-------
>>> s = MonitoringSignal("drift", "credit", "credit-default", "3", "income", 0.41, 0.25,
...                      "drift", at=1_790_000_000_000_000, details={"psi": 0.41})
>>> s.key, MonitoringSignal.from_dict(s.to_dict()) == s
('credit/income', True)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, get_args

SignalKind = Literal["drift", "score_drift", "performance", "calibration", "label_rate"]
"""What left its band: a model input, the model's score, realized performance, the score's
calibration (ECE over matured labels) or the positive-label rate against training's."""

SIGNAL_KINDS: tuple[str, ...] = get_args(SignalKind)

Band = Literal["stable", "monitor", "drift", "degraded"]
"""Drift bands by PSI (stable < 0.1 <= monitor <= 0.25 < drift, configurable), and
``degraded`` for a performance metric that fell by more than its allowed drop."""


@dataclass(frozen=True)
class MonitoringSignal:
    """One finding of a monitoring run that needs attention.

    Parameters
    ----------
    kind:
        ``drift`` (a model input), ``score_drift`` (the score) or ``performance``.
    deployment, model_name, model_version:
        The deployment monitored and the model version whose reference it was compared with.
    subject:
        The feature (drift), ``score`` (score drift) or the metric name (performance: ``auc``,
        ``ks``, ``precision``, ``recall``).
    value:
        The measured value: PSI for drift, the realized metric for performance.
    threshold:
        The value that was crossed: the PSI band edge, or the baseline minus the allowed drop.
    band:
        Where ``value`` falls: ``monitor`` or ``drift`` for drift, ``degraded`` for
        performance.
    at:
        The end of the window, microseconds since the epoch (UTC).
    details:
        Supporting numbers (other statistics, the window, the baseline...), JSON-ready.
    segment:
        ``COLUMN=VALUE`` when the finding is for one segment of the traffic only.
    """

    kind: SignalKind
    deployment: str
    model_name: str
    model_version: str
    subject: str
    value: float
    threshold: float
    band: Band
    at: int
    details: dict[str, Any] = field(default_factory=dict)
    segment: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in SIGNAL_KINDS:
            raise ValueError(
                f"MonitoringSignal.kind must be one of {', '.join(SIGNAL_KINDS)}; "
                f"got {self.kind!r}."
            )

    @property
    def key(self) -> str:
        """``deployment[/segment]/subject``: what the signal is about, across runs."""
        parts = [self.deployment, *([self.segment] if self.segment else []), self.subject]
        return "/".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MonitoringSignal:
        """The signal :meth:`to_dict` wrote."""
        return cls(
            kind=data["kind"],
            deployment=str(data["deployment"]),
            model_name=str(data["model_name"]),
            model_version=str(data["model_version"]),
            subject=str(data["subject"]),
            value=float(data["value"]),
            threshold=float(data["threshold"]),
            band=data["band"],
            at=int(data["at"]),
            details=dict(data.get("details") or {}),
            segment=data.get("segment"),
        )
