"""Canary gates: should a canary advance, wait, promote, roll back, or hold? (DESIGN §3.3)

Pure functions of each arm's numbers since the stage began, so the same code judges a
simulation, a test and the live prediction log. The gates, in the order they are judged:

1. **Harm** (rolls back at once, at any sample size): one-sided always-valid sequential tests
   of canary minus control on the error rate and on the mean latency; harm when the lower
   bound of the confidence sequence is above 0 at ``alpha``. Being always valid, they may be
   looked at after every request without inflating false alarms. The error counts get the
   Agresti-Caffo adjustment (one error and one success more per arm), so a control with no
   errors at all still gives the test a variance.
2. **p99 floor, credible breach** (rolls back): the canary's p99 is above ``p99_ratio`` ×
   control's even when judged generously: the canary's lower order-statistic bound against
   control's upper one (each one-sided at ``alpha``).
3. **Minimum sample** (waits): each arm needs ``min_samples`` rows in the stage.
4. **Sample-ratio mismatch** (holds): the units per arm do not fit the stage's weights
   (χ² p below ``srm_p``); the numbers cannot be trusted until someone looks. Judged only
   once the minimum sample is in, when the stage would otherwise move, so that early noise
   and repeated looks do not hold a healthy rollout.
5. **Floors** (waits): error rate ≤ ``error_ratio`` × control and p99 ≤ ``p99_ratio`` ×
   control on the point estimates. A breach waits for more data, up to ``patience`` ×
   ``min_samples`` rows per arm: it resolves, or turns into harm (1) or a credible breach
   (2), which roll back. Past that, a breach that never became credible is noise (a rare
   error, a p99 from a few hundred rows) and the stage passes, so a healthy canary never
   stalls.
6. Otherwise the stage passed: **advance**, or **promote** after the last gated stage.

Example
-------
>>> def arm(rows, error_every=0):
...     errors = [error_every > 0 and i % error_every == 0 for i in range(rows)]
...     return ArmStats.from_values(errors, [2.0 + (i % 7) * 0.1 for i in range(rows)])
>>> evaluate_gates(arm(1200), arm(400), canary_share=0.25, policy=GatePolicy()).action
'advance'
>>> decision = evaluate_gates(arm(1200), arm(400, 5), canary_share=0.25, policy=GatePolicy())
>>> decision.action, decision.gate
('rollback', 'error_rate')
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any, Literal

import numpy as np

from cairn.core.errors import ConfigError
from cairn.core.gate_policy import GatePolicy
from cairn.experiments.stats import Proportion, SampleMean, TestResult, sequential, srm

Action = Literal["wait", "advance", "promote", "rollback", "hold"]
Gate = Literal[
    "min_samples",
    "error_rate",
    "latency",
    "p99_floor",
    "error_floor",
    "srm",
    "passed",
    "full_traffic",
    "evaluation",
]
"""Which gate decided; ``full_traffic`` and ``evaluation`` (it failed) are the controller's."""
P99 = 0.99


@dataclass(frozen=True)
class ArmStats:
    """One arm's numbers since its stage began (what one SQL ``GROUP BY arm`` returns).

    Parameters
    ----------
    units:
        Distinct units (the sample-ratio check counts these).
    errors:
        Rows, and rows whose model failed.
    latency:
        Rows and sums of ``latency_ms``.
    p99, p99_low, p99_high:
        The p99 latency (linear interpolation) and its lower and upper order-statistic
        confidence bounds (``-inf``/``inf`` when there are too few rows for one).
    """

    units: int
    errors: Proportion
    latency: SampleMean
    p99: float
    p99_low: float = -math.inf
    p99_high: float = math.inf

    @property
    def n(self) -> int:
        """Rows."""
        return self.errors.n

    @classmethod
    def from_values(
        cls,
        errors: Sequence[bool],
        latency_ms: Sequence[float],
        *,
        units: int | None = None,
        alpha: float = 0.05,
    ) -> ArmStats:
        """Summarise raw rows (simulations and tests; the controller asks SQL instead).

        Example
        -------
        >>> s = ArmStats.from_values([False, True, False, False], [1.0, 2.0, 3.0, 4.0])
        >>> s.n, s.errors.mean, s.latency.mean, round(s.p99, 2)
        (4, 0.25, 2.5, 3.97)
        """
        lat = np.sort(np.asarray(latency_ms, dtype=np.float64))
        n = len(lat)
        if len(errors) != n:
            raise ConfigError(
                f"errors and latency_ms must have one value per row; got {len(errors)} and {n}."
            )
        low, high = quantile_ranks(n, P99, alpha)
        return cls(
            units=n if units is None else units,
            errors=Proportion(n, float(np.sum(np.asarray(errors, dtype=bool)))),
            latency=SampleMean(n, float(lat.sum()), float((lat * lat).sum())),
            p99=float(np.quantile(lat, P99)) if n else 0.0,
            p99_low=float(lat[low - 1]) if low >= 1 else -math.inf,
            p99_high=float(lat[high - 1]) if high <= n else math.inf,
        )


def quantile_ranks(n: int, q: float, alpha: float) -> tuple[int, int]:
    """1-based ranks of the order statistics bounding the ``q`` quantile of ``n`` rows, each
    one-sided at ``alpha`` (normal approximation of the binomial count below the quantile);
    a rank below 1 or above ``n`` means no bound.

    Example
    -------
    >>> quantile_ranks(1000, 0.99, 0.05)
    (984, 997)
    """
    z = NormalDist().inv_cdf(1 - alpha)
    spread = z * math.sqrt(n * q * (1 - q))
    return math.floor(n * q - spread), math.ceil(n * q + spread) + 1


@dataclass(frozen=True)
class GateDecision:
    """What the gates decided, which gate decided it, the numbers it used, and why.

    Example
    -------
    >>> GateDecision("wait", "min_samples", {"canary_n": 3}, "3 of 200 rows").action
    'wait'
    """

    action: Action
    gate: Gate
    numbers: dict[str, Any] = field(default_factory=dict)
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (infinities and NaN become None)."""
        return {
            "action": self.action,
            "gate": self.gate,
            "numbers": {k: _json_number(v) for k, v in self.numbers.items()},
            "reason": self.reason,
        }


def _json_number(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def evaluate_gates(
    control: ArmStats,
    canary: ArmStats,
    *,
    canary_share: float,
    policy: GatePolicy,
    last: bool = False,
) -> GateDecision:
    """Judge one stage of a canary (see the module docstring for the order of the gates).

    Parameters
    ----------
    control, canary:
        Each arm's numbers since the stage began (primary rows only).
    canary_share:
        The canary's configured share of traffic in this stage, in (0, 1).
    policy:
        The thresholds.
    last:
        Passing this stage promotes (the next stage is 100 %).
    """
    if not 0 < canary_share < 1:
        raise ConfigError(f"canary_share must be in (0, 1); got {canary_share!r}.")
    numbers = _numbers(control, canary, canary_share)
    tests: dict[Gate, TestResult] = {
        "error_rate": sequential(
            _agresti_caffo(control.errors),
            _agresti_caffo(canary.errors),
            relative=False,
            alpha=policy.alpha,
            n_star=policy.n_star,
            alternative="greater",
        ),
        "latency": sequential(
            control.latency,
            canary.latency,
            relative=False,
            alpha=policy.alpha,
            n_star=policy.n_star,
            alternative="greater",
        ),
    }
    for name, result in tests.items():
        numbers.update(_test_numbers(name, result))
    for name, result in tests.items():
        if result.error is None and result.ci[0] > 0:
            what = "error rate" if name == "error_rate" else "mean latency (ms)"
            return GateDecision(
                "rollback",
                name,
                numbers,
                f"harm: canary {what} exceeds control by {result.expected:.4g} "
                f"(one-sided {1 - policy.alpha:.0%} always-valid lower bound "
                f"{result.ci[0]:.4g} > 0)",
            )
    p99_limit = policy.p99_ratio * control.p99_high
    if canary.p99_low > p99_limit:
        return GateDecision(
            "rollback",
            "p99_floor",
            numbers,
            f"p99 floor breached: canary p99 >= {canary.p99_low:.4g} ms (lower bound) exceeds "
            f"{policy.p99_ratio:g} x control p99 <= {control.p99_high:.4g} ms (upper bound)",
        )
    short = min(control.n, canary.n)
    if short < policy.min_samples:
        return GateDecision(
            "wait",
            "min_samples",
            numbers,
            f"collecting: control {control.n}, canary {canary.n} rows of the "
            f"{policy.min_samples} each arm needs",
        )
    shares = [1 - canary_share, canary_share]
    check = srm([control.units, canary.units], shares, threshold=policy.srm_p)
    numbers.update(srm_p=check.p_value, srm_chi2=check.chi2)
    if check.mismatch:
        return GateDecision(
            "hold",
            "srm",
            numbers,
            f"sample-ratio mismatch: units {control.units}/{canary.units} do not fit the "
            f"weights {shares[0]:.0%}/{shares[1]:.0%} (chi2 p = {check.p_value:.2g} < "
            f"{policy.srm_p:g}); check assignment and logging, then resume",
        )
    breach = _floor_breach(control, canary, policy)
    if breach is not None:
        gate, text = breach
        if short < policy.patience * policy.min_samples:
            return GateDecision("wait", gate, numbers, f"{text}, not credibly; collecting more")
        numbers[f"{gate}_waived"] = True
        return GateDecision(
            "promote" if last else "advance",
            "passed",
            numbers,
            f"{text} after {short} rows per arm, but never credibly: treated as noise",
        )
    return GateDecision(
        "promote" if last else "advance",
        "passed",
        numbers,
        f"every gate passed with control {control.n} and canary {canary.n} rows",
    )


def _floor_breach(
    control: ArmStats, canary: ArmStats, policy: GatePolicy
) -> tuple[Gate, str] | None:
    error_limit = policy.error_ratio * control.errors.mean
    if canary.errors.mean > error_limit:
        return "error_floor", (
            f"canary error rate {canary.errors.mean:.3%} is above {policy.error_ratio:g} x "
            f"control ({error_limit:.3%})"
        )
    p99_limit = policy.p99_ratio * control.p99
    if canary.p99 > p99_limit:
        return "p99_floor", (
            f"canary p99 {canary.p99:.4g} ms is above {policy.p99_ratio:g} x control "
            f"({p99_limit:.4g} ms)"
        )
    return None


def _agresti_caffo(errors: Proportion) -> Proportion:
    """One error and one success added to the arm (Agresti & Caffo 2000): an arm without
    errors still has a variance, so a healthy control does not silence the error-rate test."""
    return Proportion(errors.n + 2, errors.sum + 1)


def _numbers(control: ArmStats, canary: ArmStats, share: float) -> dict[str, Any]:
    out: dict[str, Any] = {"canary_share": share}
    for arm, s in (("control", control), ("canary", canary)):
        out.update(
            {
                f"{arm}_n": s.n,
                f"{arm}_units": s.units,
                f"{arm}_error_rate": s.errors.mean,
                f"{arm}_latency_mean_ms": s.latency.mean,
                f"{arm}_p99_ms": s.p99,
            }
        )
    out["control_p99_high_ms"] = control.p99_high
    out["canary_p99_low_ms"] = canary.p99_low
    return out


def _test_numbers(name: str, result: TestResult) -> dict[str, Any]:
    return {
        f"{name}_diff": result.expected,
        f"{name}_lower": result.ci[0] if result.error is None else None,
        f"{name}_p": result.p_value,
    }
