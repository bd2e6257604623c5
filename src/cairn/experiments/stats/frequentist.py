"""Fixed-horizon frequentist test: Welch's t with Welch–Satterthwaite degrees of freedom.

As gbstats ``TwoSidedTTest`` / ``OneSidedTreatment*TTest``: ``t = lift / se`` with the lift
and its (delta-method, when relative) variance from the arms' sufficient statistics.
"""

from __future__ import annotations

import math

from scipy.special import stdtr, stdtrit

from cairn.experiments.stats._checks import Alternative, check_alpha, check_alternative
from cairn.experiments.stats._difference import difference
from cairn.experiments.stats.results import TestResult
from cairn.experiments.stats.statistics import Statistic


def failed(relative: bool, error: str) -> TestResult:
    """The uninformative result of a test that could not run (gbstats default output)."""
    return TestResult(0.0, (0.0, 0.0), None, 0.0, relative, error)


def frequentist(
    control: Statistic,
    treatment: Statistic,
    *,
    relative: bool = True,
    alpha: float = 0.05,
    alternative: Alternative = "two-sided",
) -> TestResult:
    """Welch's t-test of ``treatment`` against ``control``.

    Parameters
    ----------
    control, treatment : SampleMean, Proportion, Ratio or Adjusted
        Sufficient statistics of the two arms (the same kind in both).
    relative : bool
        Relative lift ``(t - c) / c`` (default) or the absolute difference.
    alpha : float
        1 - confidence level of the interval.
    alternative : {"two-sided", "greater", "less"}
        "greater" tests treatment > control and gives the interval ``(lower, inf)``;
        "less" tests treatment < control and gives ``(-inf, upper)``.

    Returns
    -------
    TestResult
        With ``error`` set (and p_value None) when the data cannot support a test.

    Example
    -------
    >>> from cairn.experiments.stats import Proportion
    >>> res = frequentist(Proportion(10_000, 500), Proportion(10_000, 560))
    >>> round(res.expected, 3), round(res.p_value, 4)
    (0.12, 0.0736)
    """
    alpha = check_alpha(alpha)
    alternative = check_alternative(alternative)
    diff = difference(control, treatment, relative)
    if isinstance(diff, str):
        return failed(relative, diff)
    z = diff.estimate / diff.se
    dof = diff.dof
    if alternative == "two-sided":
        p = 2 * float(stdtr(dof, -abs(z)))
        width = float(stdtrit(dof, 1 - alpha / 2)) * diff.se
        ci = (diff.estimate - width, diff.estimate + width)
    else:
        width = float(stdtrit(dof, 1 - alpha)) * diff.se
        if alternative == "greater":
            p = float(stdtr(dof, -z))
            ci = (diff.estimate - width, math.inf)
        else:
            p = float(stdtr(dof, z))
            ci = (-math.inf, diff.estimate + width)
    return TestResult(diff.estimate, ci, min(p, 1.0), diff.se, relative, None)
