"""Power of one treatment-versus-control comparison under the normal approximation.

With control and treatment means ``μc``, ``μt`` and per-unit variances ``vc``, ``vt`` the
estimate's variance is ``a / n_c + b / n_t`` where, as in the tests
(:mod:`cairn.experiments.stats`), ``a = vc, b = vt`` for an absolute effect and
``a = vc μt² / μc⁴, b = vt / μc²`` for a relative one (delta method). A two-sided test with
critical value ``c`` has power ``Φ(δ/se - c) + Φ(-δ/se - c)``: ``c = z(1 - α/2)`` for one fixed
look (statsmodels ``NormalIndPower``), and for a confidence sequence ``c`` is its half-width in
standard errors at ``N = n_c + n_t`` units with tuning ``N*``: the sequence excludes 0 at N
exactly when ``|estimate| > c · se``, so this is the power of a decision at N (checking earlier
too can only add to it).
"""

from __future__ import annotations

import math

from scipy.stats import norm

from cairn.experiments.power.design import PowerDesign
from cairn.experiments.stats.sequential import two_sided_multiplier


def treatment_mean(design: PowerDesign, effect: float) -> float:
    """The treatment mean under ``effect``."""
    base = design.baseline
    return base * (1 + effect) if design.relative else base + effect


def max_effect(design: PowerDesign) -> float:
    """The largest effect with a valid treatment mean (a proportion stays below 1)."""
    if design.metric == "mean":
        return math.inf
    return 1 / design.baseline - 1 if design.relative else 1 - design.baseline


def variance_terms(design: PowerDesign, effect: float) -> tuple[float, float]:
    """``(a, b)`` with ``Var(estimate) = a / n_control + b / n_treatment``.

    Example
    -------
    >>> d = PowerDesign(baseline=10.0, metric="mean", std=2.0, relative=False)
    >>> variance_terms(d, 1.0)
    (4.0, 4.0)
    """
    mu_c, mu_t = design.baseline, treatment_mean(design, effect)
    if design.metric == "proportion":
        var_c, var_t = mu_c * (1 - mu_c), mu_t * (1 - mu_t)
    else:
        var_c = var_t = float(design.std or 0.0) ** 2
    if design.relative:
        return var_c * mu_t**2 / mu_c**4, var_t / mu_c**2
    return var_c, var_t


def critical_value(design: PowerDesign, n_pair: float, n_star: float | None) -> float:
    """``z(1 - α/2)`` for a fixed look, the sequence's multiplier at ``n_pair`` otherwise."""
    if n_star is None:
        return float(norm.ppf(1 - design.level / 2))
    return two_sided_multiplier(n_pair, design.level, n_star)


def comparison_power(
    design: PowerDesign, effect: float, n_c: float, n_t: float, n_star: float | None = None
) -> float:
    """Power to detect ``effect`` with ``n_c`` control and ``n_t`` treatment units.

    Example
    -------
    >>> d = PowerDesign(baseline=10.0, metric="mean", std=2.0, relative=False)
    >>> round(comparison_power(d, 0.5, 252, 252), 3)
    0.801
    """
    a, b = variance_terms(design, effect)
    se = math.sqrt(a / n_c + b / n_t)
    z = abs(effect) / se
    c = critical_value(design, n_c + n_t, n_star)
    return float(norm.cdf(z - c) + norm.cdf(-z - c))
