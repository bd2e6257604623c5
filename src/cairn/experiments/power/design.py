"""What a power calculation needs (:class:`PowerDesign`) and what it answers (:class:`PowerPlan`).

The first weight is the control; every other arm is a treatment compared with it. With a
correction, each comparison is planned at ``alpha / (arms - 1)``: Bonferroni's level, which is
also the strictest step of Holm and of Benjamini–Hochberg, so a comparison that reaches it is
rejected under any of the three and the planned power is a guaranteed lower bound.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, TypeAlias

from cairn.core.errors import ConfigError
from cairn.experiments.stats._checks import check_alpha, check_finite, check_positive

MetricKind: TypeAlias = Literal["proportion", "mean"]
PlanCorrection: TypeAlias = Literal["none", "bonferroni", "holm", "bh"]
CORRECTIONS: tuple[str, ...] = ("none", "bonferroni", "holm", "bh")


def _weights(weights: Sequence[float]) -> tuple[float, ...]:
    try:
        values = tuple(float(w) for w in weights)
    except (TypeError, ValueError):
        raise ConfigError(f"weights must be numbers, one per arm; got {weights!r}.") from None
    if len(values) < 2:
        raise ConfigError(f"weights need a control and at least one treatment; got {values}.")
    if any(not math.isfinite(w) or w <= 0 for w in values):
        raise ConfigError(f"weights must all be above 0; got {values}.")
    return values


@dataclass(frozen=True)
class PowerDesign:
    """The inputs of a power calculation.

    Parameters
    ----------
    baseline : float
        Control mean: a rate in (0, 1) for a proportion, the average for a mean metric.
    weights : sequence of float
        Traffic weight per arm, control first (any scale: ``(50, 25, 25)``).
    alpha : float
        Two-sided significance level of each test (before any correction).
    power : float
        Probability of detecting the effect, above ``alpha``.
    metric : {"proportion", "mean"}
        A proportion's variance is ``p (1 - p)`` in each arm; a mean metric needs ``std``
        (assumed equal in both arms).
    std : float, optional
        Standard deviation of a mean metric per unit.
    relative : bool
        Effects are relative lifts (``0.10`` = +10 %) rather than absolute differences.
    correction : {"none", "bonferroni", "holm", "bh"}
        Multiple-comparison correction over the treatments (planned at ``alpha / m``).
    daily_units : float, optional
        Units entering the experiment per day (all arms), for durations.

    Example
    -------
    >>> d = PowerDesign(baseline=0.05, weights=(50, 25, 25), correction="bonferroni")
    >>> d.shares, d.level
    ((0.5, 0.25, 0.25), 0.025)
    """

    baseline: float
    weights: tuple[float, ...] = (50.0, 50.0)
    alpha: float = 0.05
    power: float = 0.8
    metric: MetricKind = "proportion"
    std: float | None = None
    relative: bool = True
    correction: PlanCorrection = "none"
    daily_units: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "weights", _weights(self.weights))
        check_alpha(self.alpha)
        check_alpha(self.power, name="power")
        if self.power <= self.alpha:
            raise ConfigError(f"power must exceed alpha ({self.alpha}); got {self.power}.")
        baseline = check_finite(self.baseline, "baseline")
        if self.metric == "proportion":
            if not 0 < baseline < 1:
                raise ConfigError(
                    f"baseline of a proportion metric must lie in (0, 1); got {baseline}."
                )
            if self.std is not None:
                raise ConfigError("std applies to mean metrics only; a proportion's is p(1-p).")
        elif self.metric == "mean":
            if self.std is None:
                raise ConfigError("std is required for a mean metric (the per-unit std).")
            check_positive(self.std, "std")
            if self.relative and baseline == 0:
                raise ConfigError("baseline must not be 0 for a relative effect; got 0.")
        else:
            raise ConfigError(f"metric must be 'proportion' or 'mean'; got {self.metric!r}.")
        if self.correction not in CORRECTIONS:
            raise ConfigError(
                f"correction must be one of {', '.join(CORRECTIONS)}; got {self.correction!r}."
            )
        if self.daily_units is not None:
            check_positive(self.daily_units, "daily_units")

    @property
    def shares(self) -> tuple[float, ...]:
        """Traffic share per arm, summing to 1."""
        total = sum(self.weights)
        return tuple(w / total for w in self.weights)

    @property
    def comparisons(self) -> int:
        """Number of treatment-versus-control comparisons."""
        return len(self.weights) - 1

    @property
    def level(self) -> float:
        """Significance level of each comparison after the correction."""
        return self.alpha if self.correction == "none" else self.alpha / self.comparisons

    def arm_names(self) -> tuple[str, ...]:
        """``control, treatment`` or ``control, treatment 1, treatment 2, ...``."""
        if self.comparisons == 1:
            return ("control", "treatment")
        return ("control", *(f"treatment {i}" for i in range(1, self.comparisons + 1)))


@dataclass(frozen=True)
class ArmPlan:
    """One arm of a plan: its share of traffic, units, and its comparison with control.

    ``power`` and ``mde`` are None for the control arm.
    """

    name: str
    share: float
    units: int
    power: float | None = None
    mde: float | None = None


@dataclass(frozen=True)
class PowerPlan:
    """The answer of a power calculation.

    Parameters
    ----------
    arms : tuple of ArmPlan
        Control first.
    total_units : int
        Units over all arms.
    days : float or None
        ``total_units / daily_units`` (None without daily units).
    mde : float
        The effect the plan detects (relative or absolute); ``inf`` when no effect can be
        detected with so few units.
    relative, alpha, power : as the design (``alpha`` after the correction)
    sequential : bool
        Planned for an always-valid confidence sequence rather than one fixed look.
    n_star : float or None
        The sequence's tuning (units in a compared pair) to use at analysis time.
    """

    arms: tuple[ArmPlan, ...]
    total_units: int
    days: float | None
    mde: float
    relative: bool
    alpha: float
    power: float
    sequential: bool = False
    n_star: float | None = None

    @property
    def whole_days(self) -> int | None:
        """Days rounded up to whole days."""
        return None if self.days is None else math.ceil(self.days - 1e-9)
