"""Sample size for an effect, and the effect reachable with a sample size (fixed or sequential).

Both solve ``power(units, effect) = target`` for one unknown with a bracketing root finder,
per treatment-versus-control comparison; the plan takes the worst comparison, so every
treatment reaches the target power. Sequential plans use the confidence-sequence multiplier
(:mod:`cairn.experiments.power.normal`) with ``n_star`` defaulting to the fixed-horizon plan's
units per compared pair, the natural tuning for an experiment expected to run that long.
"""

from __future__ import annotations

import math

from scipy.optimize import brentq

from cairn.core.errors import ConfigError
from cairn.experiments.power.design import ArmPlan, PowerDesign, PowerPlan
from cairn.experiments.power.normal import comparison_power, max_effect
from cairn.experiments.stats._checks import check_positive

_MAX_UNITS = 1e15


def _power_at(
    design: PowerDesign, effect: float, total: float, arm: int, n_star: float | None
) -> float:
    shares = design.shares
    return comparison_power(design, effect, shares[0] * total, shares[arm] * total, n_star)


def _total_for(design: PowerDesign, effect: float, arm: int, n_star: float | None) -> float:
    """Total units (all arms) at which comparison ``arm`` reaches the target power."""

    def gap(total: float) -> float:
        return _power_at(design, effect, total, arm, n_star) - design.power

    low, high = 4.0 / min(design.shares), 8.0 / min(design.shares)
    while gap(high) < 0:
        low, high = high, high * 2
        if high > _MAX_UNITS:
            raise ConfigError(f"mde {effect} is too small to detect with under 1e15 units.")
    if gap(low) >= 0:
        return low
    return float(brentq(gap, low, high, xtol=1e-9, rtol=1e-12))


def _check_effect(design: PowerDesign, mde: float) -> float:
    mde = check_positive(mde, "mde")
    if mde >= max_effect(design):
        raise ConfigError(
            f"mde must keep the treatment rate below 1 (under {max_effect(design):.6g} "
            f"from baseline {design.baseline}); got {mde}."
        )
    return mde


def _arm_units(design: PowerDesign, total: float) -> list[int]:
    """Whole units per arm (rounded up) for ``total`` units over all arms."""
    return [math.ceil(s * total - 1e-9) for s in design.shares]


def _plan(
    design: PowerDesign,
    effect: float,
    total: float,
    n_star: float | None,
    mdes: tuple[float, ...] | None = None,
) -> PowerPlan:
    shares, names = design.shares, design.arm_names()
    units = _arm_units(design, total)
    arms = [ArmPlan(names[0], shares[0], units[0])]
    for i in range(1, len(shares)):
        power = (
            comparison_power(design, effect, units[0], units[i], n_star)
            if math.isfinite(effect)
            else None
        )
        arms.append(ArmPlan(names[i], shares[i], units[i], power, mdes[i - 1] if mdes else effect))
    days = None if design.daily_units is None else sum(units) / design.daily_units
    return PowerPlan(
        arms=tuple(arms),
        total_units=sum(units),
        days=days,
        mde=effect,
        relative=design.relative,
        alpha=design.level,
        power=design.power,
        sequential=n_star is not None,
        n_star=n_star,
    )


def _total(design: PowerDesign, mde: float, n_star: float | None) -> float:
    """Total units at which every comparison reaches the target power (the worst one)."""
    return max(_total_for(design, mde, arm, n_star) for arm in range(1, len(design.shares)))


def _default_n_star(design: PowerDesign, total: float) -> float:
    units = _arm_units(design, total)
    return float(max(units[0] + u for u in units[1:]))


def sample_size(design: PowerDesign, mde: float) -> PowerPlan:
    """Units per arm (and days) to detect ``mde`` in every comparison with one fixed look.

    Parameters
    ----------
    design : PowerDesign
        Baseline, weights, alpha, power, metric, correction, daily units.
    mde : float
        Minimum detectable effect: relative lift (0.10 = +10 %) or absolute difference.

    Example
    -------
    >>> d = PowerDesign(baseline=0.05, weights=(50, 50), daily_units=20_000)
    >>> plan = sample_size(d, 0.10)
    >>> [a.units for a in plan.arms], plan.whole_days
    ([34363, 34363], 4)
    """
    mde = _check_effect(design, mde)
    return _plan(design, mde, _total(design, mde, None), None)


def sequential_sample_size(
    design: PowerDesign, mde: float, *, n_star: float | None = None
) -> PowerPlan:
    """Units per arm so that a confidence sequence tuned at ``n_star`` detects ``mde``.

    ``n_star`` defaults to the fixed-horizon plan's units per compared pair.

    Example
    -------
    >>> d = PowerDesign(baseline=0.05, weights=(50, 50))
    >>> fixed, always = sample_size(d, 0.10), sequential_sample_size(d, 0.10)
    >>> round(always.total_units / fixed.total_units, 2), always.n_star == fixed.total_units
    (1.94, True)
    """
    mde = _check_effect(design, mde)
    if n_star is None:
        n_star = _default_n_star(design, _total(design, mde, None))
    n_star = check_positive(n_star, "n_star")
    return _plan(design, mde, _total(design, mde, n_star), n_star)


def _mde_for(design: PowerDesign, total: float, arm: int, n_star: float | None) -> float:
    """The smallest effect comparison ``arm`` detects with ``total`` units (inf if none)."""

    def gap(effect: float) -> float:
        return _power_at(design, effect, total, arm, n_star) - design.power

    ceiling = max_effect(design) * (1 - 1e-9)
    scale = abs(design.baseline) if design.relative else float(design.std or design.baseline)
    high = min(ceiling, 1e-3 * (1 if design.relative else scale))
    while gap(high) < 0:
        if high >= ceiling or high > 1e12 * max(scale, 1.0):
            return math.inf
        high = min(ceiling, high * 4)
    low = high / 4 if high > 1e-300 else 0.0
    while low > 0 and gap(low) >= 0:
        high, low = low, low / 4
    return float(brentq(gap, low, high, xtol=1e-15, rtol=1e-12))


def _units_from(design: PowerDesign, units: float | None, days: float | None) -> float:
    if (units is None) == (days is None):
        raise ConfigError("give exactly one of units (all arms) or days; got both or neither.")
    if units is not None:
        return check_positive(units, "units")
    if design.daily_units is None:
        raise ConfigError("days needs the design's daily_units (units entering per day).")
    return check_positive(days, "days") * design.daily_units  # type: ignore[arg-type]


def minimum_detectable_effect(
    design: PowerDesign, *, units: float | None = None, days: float | None = None
) -> PowerPlan:
    """The smallest effect every comparison detects with ``units`` in all (or ``days`` of traffic).

    Effects are increases; ``mde`` is ``inf`` when no effect reaches the power.

    Example
    -------
    >>> d = PowerDesign(baseline=0.05, weights=(50, 50), daily_units=20_000)
    >>> round(minimum_detectable_effect(d, days=14).mde, 4)
    0.0478
    """
    total = _units_from(design, units, days)
    mdes = tuple(_mde_for(design, total, arm, None) for arm in range(1, len(design.shares)))
    return _plan(design, max(mdes), total, None, mdes)


def sequential_minimum_detectable_effect(
    design: PowerDesign,
    *,
    units: float | None = None,
    days: float | None = None,
    n_star: float | None = None,
) -> PowerPlan:
    """As :func:`minimum_detectable_effect` for a confidence sequence tuned at ``n_star``.

    ``n_star`` defaults to the planned units per compared pair.

    Example
    -------
    >>> d = PowerDesign(baseline=0.05, weights=(50, 50), daily_units=20_000)
    >>> round(sequential_minimum_detectable_effect(d, days=14).mde, 4)
    0.067
    """
    total = _units_from(design, units, days)
    n_star = check_positive(_default_n_star(design, total) if n_star is None else n_star, "n_star")
    mdes = tuple(_mde_for(design, total, arm, n_star) for arm in range(1, len(design.shares)))
    return _plan(design, max(mdes), total, n_star, mdes)
