"""CUPED: variance reduction with a pre-period covariate and one θ pooled over the arms.

θ is the regression slope of the post-period metric on its pre-period covariate computed
on all compared units together (gbstats ``compute_theta``); every arm is then adjusted by the
same θ, so the adjustment cannot create a difference between the arms. When the pooled post or
pre metric has no variance, θ is 0 and the tests fall back to the unadjusted metric.
"""

from __future__ import annotations

from dataclasses import replace

from cairn.core.errors import ConfigError
from cairn.experiments.stats.statistics import Adjusted, Proportion, SampleMean, Simple


def _pool(parts: list[Simple], role: str) -> Simple:
    kinds = {type(p) for p in parts}
    if len(kinds) > 1:
        names = ", ".join(sorted(k.__name__ for k in kinds))
        raise ConfigError(
            f"Adjusted.{role} must be the same kind of statistic in every arm; got {names}."
        )
    n = sum(p.n for p in parts)
    total = sum(p.sum for p in parts)
    if isinstance(parts[0], Proportion):
        return Proportion(n, total)
    return SampleMean(n, total, sum(p.sum_squares for p in parts))


def cuped_theta(*arms: Adjusted) -> float:
    """The pooled CUPED θ: ``cov(post, pre) / var(pre)`` over the units of all ``arms``.

    Parameters
    ----------
    *arms : Adjusted
        The arms being compared (control first; order does not matter).

    Returns
    -------
    float
        θ, or 0 when the pooled post or pre metric has zero variance.

    Example
    -------
    >>> a = Adjusted(SampleMean(3, 6.0, 14.0), SampleMean(3, 3.0, 5.0), 8.0)
    >>> b = Adjusted(SampleMean(3, 9.0, 29.0), SampleMean(3, 3.0, 5.0), 11.0)
    >>> round(cuped_theta(a, b), 4)
    1.0
    """
    if not arms:
        raise ConfigError("cuped_theta needs at least one Adjusted arm; got none.")
    for arm in arms:
        if not isinstance(arm, Adjusted):
            raise ConfigError(f"cuped_theta takes Adjusted arms; got {type(arm).__name__}.")
    post = _pool([a.post for a in arms], "post")
    pre = _pool([a.pre for a in arms], "pre")
    if post.variance <= 0 or pre.variance <= 0:
        return 0.0
    joint = Adjusted(post, pre, sum(a.post_pre_sum_of_products for a in arms))
    return joint.covariance / pre.variance


def with_pooled_theta(
    control: Adjusted, treatment: Adjusted
) -> tuple[Adjusted | Simple, Adjusted | Simple]:
    """Both arms ready for a test: θ pooled unless both carry one; unadjusted when θ is 0.

    Example
    -------
    >>> a = Adjusted(SampleMean(3, 6.0, 14.0), SampleMean(3, 3.0, 5.0), 8.0)
    >>> c, t = with_pooled_theta(a, a)
    >>> c.theta == t.theta
    True
    """
    if control.theta is not None and treatment.theta is not None:
        return control, treatment
    theta = cuped_theta(control, treatment)
    if theta == 0:
        return control.post, treatment.post
    return replace(control, theta=theta), replace(treatment, theta=theta)
