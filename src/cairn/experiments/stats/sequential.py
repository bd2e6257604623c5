"""Always-valid inference: confidence sequences you may check after every new unit.

Two-sided (gbstats ``SequentialTwoSidedTTest``; Waudby-Smith et al. 2023, eq. 9, 155, 161):
with ``N = n_control + n_treatment``, ``s² = N · Var(lift)`` and
``ρ² = (-2 ln α + ln(1 - 2 ln α)) / N*``, the half-width is

    s · sqrt( 2 (Nρ² + 1) · ln( sqrt(Nρ² + 1) / α ) / (Nρ)² )

and the p-value is ``min(1, 1 / E)`` with the e-value
``E = exp(ρ² S² / (2 (Nρ² + 1))) / sqrt(Nρ² + 1)`` where ``S = N · lift / s``
(``sqrt(N)`` times the z-statistic).
``N*`` (``n_star``) is the sample size at which the sequence is tightest.

One-sided (Cairn's extension). The two-sided e-value is the Gaussian mixture
``∫ exp(λS - λ²N/2) dN(0, ρ²)(λ)``, a non-negative martingale under the null. Mixing over
``λ > 0`` only (a half-normal, weight doubled) gives another one:

    E⁺ = 2 · exp(u² / 2) · Φ(u) / sqrt(Nρ² + 1),   u = ρS / sqrt(Nρ² + 1)

(S signed: positive when the lift is in the tested direction). By Ville's inequality
``P(sup E⁺ ≥ 1/α) ≤ α``, so ``p = min(1, 1/E⁺)`` is an always-valid one-sided p-value and the
bound where ``E⁺ = 1/α`` (solved for u, a one-dimensional root) gives the one-sided sequence
``(lift - w, inf)`` or ``(-inf, lift + w)``. Because ``Φ(u) → 1`` at the boundary this is, to
within 2 % of the width, the two-sided sequence at level 2α; ρ is tuned with 2α
for the same reason, which needs ``alpha < 0.5``.
"""

from __future__ import annotations

import math

from scipy.special import log_ndtr

from cairn.core.errors import ConfigError
from cairn.experiments.stats._checks import (
    Alternative,
    check_alpha,
    check_alternative,
    check_positive,
)
from cairn.experiments.stats._difference import difference
from cairn.experiments.stats.frequentist import failed
from cairn.experiments.stats.results import TestResult
from cairn.experiments.stats.statistics import Statistic


def rho(alpha: float, n_star: float) -> float:
    """The mixture scale that makes the two-sided sequence tightest at ``n_star`` units.

    Example
    -------
    >>> round(rho(0.05, 10_000), 6)
    0.028171
    """
    log_a = math.log(alpha)
    return math.sqrt((-2 * log_a + math.log(1 - 2 * log_a)) / n_star)


def two_sided_multiplier(n: float, alpha: float, n_star: float) -> float:
    """Half-width of the two-sided sequence in standard errors of the lift at ``n`` units.

    Example
    -------
    >>> round(two_sided_multiplier(10_000, 0.05, 10_000), 4)
    3.0352
    """
    r2 = rho(alpha, n_star) ** 2
    return math.sqrt(2 * (n * r2 + 1) * math.log(math.sqrt(n * r2 + 1) / alpha) / (n * r2))


def _half_mixture_root(level: float) -> float:
    """The u > 0 with ``u²/2 + ln Φ(u) = level`` (level > -ln 2, the value at u = 0)."""

    def g(u: float) -> float:
        return float(u * u / 2 + log_ndtr(u)) - level

    from scipy.optimize import brentq  # here: importing the statistics stays cheap

    return float(brentq(g, 0.0, math.sqrt(2 * (level + math.log(2))), xtol=1e-14, rtol=1e-15))


def one_sided_multiplier(n: float, alpha: float, n_star: float) -> float:
    """Half-width of the one-sided sequence in standard errors of the lift at ``n`` units.

    Example
    -------
    >>> one = one_sided_multiplier(10_000, 0.05, 10_000)
    >>> two = two_sided_multiplier(10_000, 0.1, 10_000)
    >>> two < one < 1.02 * two
    True
    """
    r2 = rho(2 * alpha, n_star) ** 2
    scale = math.sqrt(n * r2 + 1)
    u = _half_mixture_root(math.log(scale / (2 * alpha)))
    return u * scale / math.sqrt(n * r2)


def _one_sided_p(s: float, n: float, alpha: float, n_star: float) -> float:
    r2 = rho(2 * alpha, n_star) ** 2
    scale = math.sqrt(n * r2 + 1)
    u = math.sqrt(r2) * s / scale
    log_e = math.log(2) + u * u / 2 + float(log_ndtr(u)) - math.log(scale)
    return min(1.0, math.exp(-log_e)) if log_e > -700 else 1.0


def sequential(
    control: Statistic,
    treatment: Statistic,
    *,
    n_star: float = 10_000,
    relative: bool = True,
    alpha: float = 0.05,
    alternative: Alternative = "two-sided",
) -> TestResult:
    """An always-valid comparison of ``treatment`` with ``control``.

    Parameters
    ----------
    control, treatment : SampleMean, Proportion, Ratio or Adjusted
        Sufficient statistics of the two arms so far.
    n_star : float
        Tuning: total units of both arms at which the sequence is tightest.
    relative, alpha, alternative
        As :func:`frequentist`; one-sided sequences need ``alpha < 0.5``.

    Example
    -------
    >>> from cairn.experiments.stats import Proportion
    >>> res = sequential(Proportion(10_000, 500), Proportion(10_000, 650), n_star=20_000)
    >>> round(res.expected, 3), round(res.p_value, 4), res.ci[0] > 0
    (0.3, 0.0025, True)
    """
    alpha = check_alpha(alpha)
    alternative = check_alternative(alternative)
    n_star = check_positive(n_star, "n_star")
    if alternative != "two-sided" and alpha >= 0.5:
        raise ConfigError(f"alpha must be below 0.5 for a one-sided sequential test; got {alpha}.")
    diff = difference(control, treatment, relative)
    if isinstance(diff, str):
        return failed(relative, diff)
    n, est, se = diff.n, diff.estimate, diff.se
    if alternative == "two-sided":
        width = two_sided_multiplier(n, alpha, n_star) * se
        r2 = rho(alpha, n_star) ** 2
        log_e = r2 * n * (est / se) ** 2 / (2 * (n * r2 + 1)) - 0.5 * math.log(n * r2 + 1)
        p = min(1.0, math.exp(-log_e)) if log_e > -700 else 1.0
        return TestResult(est, (est - width, est + width), p, se, relative, None)
    width = one_sided_multiplier(n, alpha, n_star) * se
    sign = 1.0 if alternative == "greater" else -1.0
    p = _one_sided_p(sign * math.sqrt(n) * est / se, n, alpha, n_star)
    ci = (est - width, math.inf) if alternative == "greater" else (-math.inf, est + width)
    return TestResult(est, ci, p, se, relative, None)
