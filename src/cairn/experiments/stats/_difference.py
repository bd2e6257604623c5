"""The lift of a treatment over its control, its variance and Welch's degrees of freedom.

Shared by the frequentist, sequential and Bayesian tests (gbstats ``frequentist_diff`` and
``frequentist_variance``): the relative lift divides by the control's unadjusted mean and its
variance comes from the delta method.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from cairn.core.errors import ConfigError
from cairn.experiments.stats import results as r
from cairn.experiments.stats.cuped import with_pooled_theta
from cairn.experiments.stats.statistics import Adjusted, Ratio, Statistic, is_finite


@dataclass(frozen=True)
class Difference:
    """Point estimate and variance of the lift, Welch dof, and the units compared."""

    estimate: float
    variance: float
    dof: float
    n: int

    @property
    def se(self) -> float:
        """Standard error of the estimate."""
        return math.sqrt(self.variance)


def _kind(stat: Statistic) -> str:
    return type(stat).__name__


def _problem(control: Statistic, treatment: Statistic, relative: bool) -> str | None:
    for arm, stat in (("control", control), ("treatment", treatment)):
        if stat.n == 0:
            return f"{r.EMPTY_ARM}: the {arm} arm has no units"
    for arm, stat in (("control", control), ("treatment", treatment)):
        if stat.n < 2:
            return f"{r.TOO_FEW_UNITS}: the {arm} arm has {stat.n} unit; at least 2 are needed"
    for arm, stat in (("control", control), ("treatment", treatment)):
        if not is_finite(stat):
            return f"{r.INVALID_STATISTICS}: the {arm} arm's sums are not finite numbers"
        if isinstance(stat, Ratio) and stat.d_sum == 0:
            return f"{r.ZERO_DENOMINATOR}: the {arm} arm's ratio denominator sums to 0"
    if relative and (control.mean == 0 or control.unadjusted_mean == 0):
        return f"{r.ZERO_BASELINE}: the control mean is 0, so a relative lift is undefined"
    for arm, stat in (("control", control), ("treatment", treatment)):
        if stat.variance <= 0:
            return f"{r.ZERO_VARIANCE}: the {arm} arm's metric has no variance"
    return None


def difference(control: Statistic, treatment: Statistic, relative: bool) -> Difference | str:
    """The lift of ``treatment`` over ``control``, or the reason it cannot be computed.

    Raises ConfigError when the two arms are different kinds of statistic.

    Example
    -------
    >>> from cairn.experiments.stats.statistics import Proportion
    >>> d = difference(Proportion(1000, 100), Proportion(1000, 120), relative=True)
    >>> round(d.estimate, 6)
    0.2
    """
    if type(control) is not type(treatment):
        raise ConfigError(
            f"treatment must be the same kind of statistic as control ({_kind(control)}); "
            f"got {_kind(treatment)}."
        )
    if isinstance(control, Adjusted) and isinstance(treatment, Adjusted):
        control, treatment = with_pooled_theta(control, treatment)
    problem = _problem(control, treatment, relative)
    if problem is not None:
        return problem
    var_a, var_b = control.variance, treatment.variance
    n_a, n_b = control.n, treatment.n
    base, mean_b = control.unadjusted_mean, treatment.unadjusted_mean
    if relative:
        estimate = (treatment.mean - control.mean) / base
        variance = var_b / (base**2 * n_b) + var_a * mean_b**2 / (base**4 * n_a)
    else:
        estimate = treatment.mean - control.mean
        variance = var_b / n_b + var_a / n_a
    dof = (var_b / n_b + var_a / n_a) ** 2 / (
        var_b**2 / (n_b**2 * (n_b - 1)) + var_a**2 / (n_a**2 * (n_a - 1))
    )
    if not (math.isfinite(variance) and variance > 0 and math.isfinite(estimate)):
        return f"{r.ZERO_VARIANCE}: the variance of the lift is not a positive number"
    return Difference(estimate, variance, dof, n_a + n_b)
