"""Bayesian effect test: a Gaussian likelihood for the lift and a Gaussian prior on it.

As gbstats ``EffectBayesianABTest``: the data give the lift and its (delta-method) variance;
a proper prior ``N(prior_mean, prior_variance)`` on the same scale as the lift (relative or
absolute) is combined by precision weighting, a flat prior leaves the data alone. Chance to win
is ``P(lift > 0)``; risk is the expected loss ``(E[max(lift, 0)], E[max(-lift, 0)])`` of
choosing control and of choosing the treatment.
"""

from __future__ import annotations

import math

from scipy.special import ndtr, ndtri

from cairn.core.errors import ConfigError
from cairn.experiments.stats._checks import check_alpha, check_finite, check_positive
from cairn.experiments.stats._difference import difference
from cairn.experiments.stats.results import BayesResult
from cairn.experiments.stats.statistics import Statistic


def expected_losses(mean: float, sd: float) -> tuple[float, float]:
    """``E[max(X, 0)]`` and ``E[max(-X, 0)]`` for ``X ~ N(mean, sd²)``.

    Example
    -------
    >>> [round(v, 4) for v in expected_losses(0.0, 1.0)]
    [0.3989, 0.3989]
    """
    u = mean / sd
    density = math.exp(-u * u / 2) / math.sqrt(2 * math.pi)
    return mean * float(ndtr(u)) + sd * density, sd * density - mean * float(ndtr(-u))


def bayesian(
    control: Statistic,
    treatment: Statistic,
    *,
    relative: bool = True,
    prior_mean: float = 0.0,
    prior_variance: float = 1.0,
    proper: bool = False,
    alpha: float = 0.05,
) -> BayesResult:
    """Posterior of the lift of ``treatment`` over ``control``.

    Parameters
    ----------
    control, treatment : SampleMean, Proportion, Ratio or Adjusted
        Sufficient statistics of the two arms.
    relative : bool
        Relative lift (default) or absolute difference; the prior is on the same scale.
    prior_mean, prior_variance : float
        The Gaussian prior on the lift (used only when ``proper``).
    proper : bool
        Use the prior; otherwise the prior is flat and the posterior is the likelihood.
    alpha : float
        The credible interval covers ``1 - alpha``.

    Example
    -------
    >>> from cairn.experiments.stats import Proportion
    >>> res = bayesian(Proportion(10_000, 500), Proportion(10_000, 560))
    >>> round(res.expected, 3), round(res.chance_to_win, 4)
    (0.12, 0.9632)
    >>> shrunk = bayesian(Proportion(10_000, 500), Proportion(10_000, 560),
    ...                   proper=True, prior_variance=0.01)
    >>> round(shrunk.expected, 4)
    0.0828
    """
    alpha = check_alpha(alpha)
    prior_mean = check_finite(prior_mean, "prior_mean")
    prior_variance = check_positive(prior_variance, "prior_variance")
    if not isinstance(proper, bool):
        raise ConfigError(f"proper must be True or False; got {proper!r}.")
    diff = difference(control, treatment, relative)
    if isinstance(diff, str):
        return BayesResult(0.0, (0.0, 0.0), 0.5, (0.0, 0.0), diff, 0.0, relative)
    precision = 1 / diff.variance + (1 / prior_variance if proper else 0.0)
    if proper:
        mean = (diff.estimate / diff.variance + prior_mean / prior_variance) / precision
    else:
        mean = diff.estimate
    sd = math.sqrt(1 / precision)
    z = float(ndtri(1 - alpha / 2))
    return BayesResult(
        expected=mean,
        ci=(mean - z * sd, mean + z * sd),
        chance_to_win=float(ndtr(mean / sd)),
        risk=expected_losses(mean, sd),
        error=None,
        se=sd,
        relative=relative,
    )
