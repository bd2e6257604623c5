"""The one canary gate policy: the thresholds a canary stage is judged by.

A rollout's spec carries it (``RolloutSpec.gate``), the canary controller reads it, and the gate
statistics of :mod:`cairn.experiments.gates` take it. It is validated once, when it is made:
a bad value is one :class:`~cairn.core.errors.ConfigError` line naming the field, what is
allowed and what was given, so an invalid policy can never be stored and then fail every
evaluation.

Example
-------
>>> GatePolicy(min_samples=50).error_ratio
1.1
>>> GatePolicy.from_dict({"alpha": 0.6}, where="Rollout of 'credit'")
Traceback (most recent call last):
...
cairn.core.errors.ConfigError: Rollout of 'credit': gate.alpha must be in (0, 0.5); got 0.6.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

from cairn.core.errors import ConfigError

OWNER = "GatePolicy"
Evidence = Literal["labels", "shadow", "labels_or_shadow", "none"]
EVIDENCE: tuple[str, ...] = ("labels", "shadow", "labels_or_shadow", "none")
"""What promotion at the last stage needs: matured labels showing the canary's AUC is not worse
than control's by more than ``auc_margin``, a shadow comparison of the canary's version showing
the same, either, or nothing (then the decision records that no evidence was required)."""


@dataclass(frozen=True)
class GatePolicy:
    """When a canary stage passes, waits, holds or fails.

    Parameters
    ----------
    min_samples:
        Rows each arm needs in a stage before it can pass.
    alpha:
        Level of the one-sided sequential tests and of the p99 bounds, in (0, 0.5).
    n_star:
        Rows (both arms) at which the confidence sequences are tightest.
    error_ratio, p99_ratio:
        Floors: canary error rate ≤ ``error_ratio`` × control, p99 ≤ ``p99_ratio`` × control.
    srm_p:
        A sample-ratio-mismatch p-value below this holds the rollout.
    patience:
        A floor breached on the point estimates waits until each arm has ``patience`` ×
        ``min_samples`` rows; past that, only a credible breach stops the stage.
    interval_s:
        Seconds between two evaluations by the canary controller.
    max_score_psi:
        The canary's scores against control's (PSI over control's score bins): above this
        the rollout holds (default 0.2, below the 0.25 drift band).
    decision_rate_margin:
        The positive-decision rates may differ by this much (absolute): a difference whose
        always-valid two-sided interval lies wholly beyond it holds the rollout (default 0:
        any credible shift holds).
    min_labels:
        Matured labels (outcomes joined by prediction id) each arm needs before performance
        and calibration are judged.
    auc_margin:
        Non-inferiority margin of the AUC: promotion on label or shadow evidence needs the
        always-valid lower bound of canary minus control above ``-auc_margin``.
    max_ece_increase:
        The canary's expected calibration error may exceed control's by this much; beyond
        it the rollout holds.
    evidence:
        What promotion at the last stage needs (:data:`EVIDENCE`): ``labels``, ``shadow``,
        ``labels_or_shadow`` or ``none`` (default for now; recorded in every promotion).

    Example
    -------
    >>> GatePolicy(alpha=0.01).to_dict()["alpha"]
    0.01
    """

    min_samples: int = 200
    alpha: float = 0.05
    n_star: float = 1000.0
    error_ratio: float = 1.1
    p99_ratio: float = 1.2
    srm_p: float = 0.001
    patience: float = 4.0
    interval_s: float = 30.0
    max_score_psi: float = 0.2
    decision_rate_margin: float = 0.0
    min_labels: int = 100
    auc_margin: float = 0.03
    max_ece_increase: float = 0.05
    evidence: Evidence = "none"

    def __post_init__(self) -> None:
        for name in ("min_samples", "min_labels"):
            count = getattr(self, name)
            if not isinstance(count, int) or isinstance(count, bool) or count < 1:
                _fail(name, "an integer of at least 1", count)
        if self.evidence not in EVIDENCE:
            _fail("evidence", f"one of {', '.join(EVIDENCE)}", self.evidence)
        checks: tuple[tuple[str, Callable[[float], bool], str], ...] = (
            ("alpha", lambda v: 0 < v < 0.5, "in (0, 0.5)"),
            ("n_star", lambda v: v > 0, "above 0"),
            ("error_ratio", lambda v: v >= 1, "at least 1"),
            ("p99_ratio", lambda v: v >= 1, "at least 1"),
            ("srm_p", lambda v: 0 < v < 1, "in (0, 1)"),
            ("patience", lambda v: v >= 1, "at least 1"),
            ("interval_s", lambda v: v > 0, "above 0"),
            ("max_score_psi", lambda v: v > 0, "above 0"),
            ("decision_rate_margin", lambda v: 0 <= v < 1, "in [0, 1)"),
            ("auc_margin", lambda v: 0 <= v < 0.5, "in [0, 0.5)"),
            ("max_ece_increase", lambda v: 0 < v <= 1, "in (0, 1]"),
        )
        for name, ok, expected in checks:
            value = getattr(self, name)
            number = not isinstance(value, bool) and isinstance(value, int | float)
            if not number or not math.isfinite(value) or not ok(value):
                _fail(name, expected, value)
            object.__setattr__(self, name, float(value))

    @classmethod
    def from_dict(cls, data: Any, *, where: str = OWNER) -> GatePolicy:
        """A policy from a mapping of some of its fields (the others keep their defaults);
        every problem is one line starting with ``where``."""
        if isinstance(data, GatePolicy):
            return data
        allowed = [f.name for f in fields(cls)]
        if not isinstance(data, Mapping) or not set(data) <= set(allowed):
            unknown = sorted(set(data) - set(allowed)) if isinstance(data, Mapping) else []
            got = f"unknown field {unknown[0]!r}" if unknown else repr(data)
            raise ConfigError(
                f"{where}: gate must be a mapping of {', '.join(allowed)}; got {got}."
            )
        try:
            return cls(**{str(k): v for k, v in data.items()})
        except ConfigError as exc:
            if where == OWNER:
                raise
            raise ConfigError(f"{where}: {str(exc).replace(OWNER + '.', 'gate.', 1)}") from None

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain mapping (what a stored rollout spec keeps)."""
        return asdict(self)


def _fail(name: str, expected: str, value: Any) -> None:
    raise ConfigError(f"{OWNER}.{name} must be {expected}; got {value!r}.")
