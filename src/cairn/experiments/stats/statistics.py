"""Sufficient statistics per arm: what one SQL ``GROUP BY arm`` returns.

Each class holds sums, never rows, so an experiment over any size of log is analysed from a
few numbers per arm. Formulas follow GrowthBook's gbstats 0.8.0: sample variances divide by
``n - 1``, a proportion's variance is ``p (1 - p)``, a ratio's variance comes from the delta
method, and CUPED (:class:`Adjusted`) subtracts ``theta`` times the pre-period covariate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, TypeAlias

from cairn.core.errors import DataError


def _coerce(owner: Any, names: tuple[str, ...]) -> None:
    """Store ``n`` as int and sums as float (SQL engines hand back Decimal or numpy types)."""
    n, kind = owner.n, type(owner).__name__
    try:
        count = int(n)
    except (TypeError, ValueError, OverflowError):
        count = -1
    if isinstance(n, bool) or count != n or count < 0:
        raise DataError(f"{kind}.n must be a non-negative integer count of units; got {n!r}.")
    object.__setattr__(owner, "n", count)
    for name in names:
        value = getattr(owner, name)
        try:
            object.__setattr__(owner, name, float(value))
        except (TypeError, ValueError):
            raise DataError(f"{kind}.{name} must be a number; got {value!r}.") from None


def _covariance(n: int, sum_of_products: float, a_sum: float, b_sum: float) -> float:
    """Sample covariance from sums, ``n - 1`` in the denominator (0 below two units)."""
    if n <= 1:
        return 0.0
    return (sum_of_products - a_sum * b_sum / n) / (n - 1)


@dataclass(frozen=True)
class SampleMean:
    """A mean metric: units, sum and sum of squares.

    Parameters
    ----------
    n : int
        Number of units.
    sum, sum_squares : float
        Sum of the metric and of its square over the units.

    Example
    -------
    >>> s = SampleMean(n=4, sum=10.0, sum_squares=30.0)
    >>> s.mean, round(s.variance, 4)
    (2.5, 1.6667)
    """

    n: int
    sum: float
    sum_squares: float

    def __post_init__(self) -> None:
        _coerce(self, ("sum", "sum_squares"))

    @property
    def mean(self) -> float:
        """Sample mean (0 when empty, as gbstats)."""
        return self.sum / self.n if self.n else 0.0

    @property
    def unadjusted_mean(self) -> float:
        """The mean before any CUPED adjustment (the mean itself here)."""
        return self.mean

    @property
    def variance(self) -> float:
        """Sample variance with ``n - 1`` in the denominator (0 below two units)."""
        return _covariance(self.n, self.sum_squares, self.sum, self.sum)


@dataclass(frozen=True)
class Proportion:
    """A binary metric: units and the number of successes.

    Example
    -------
    >>> p = Proportion(n=200, sum=50)
    >>> p.mean, p.variance, p.sum_squares
    (0.25, 0.1875, 50.0)
    """

    n: int
    sum: float

    def __post_init__(self) -> None:
        _coerce(self, ("sum",))

    @property
    def sum_squares(self) -> float:
        """Equal to ``sum`` for a 0/1 metric."""
        return self.sum

    @property
    def mean(self) -> float:
        """Share of successes (0 when empty)."""
        return self.sum / self.n if self.n else 0.0

    @property
    def unadjusted_mean(self) -> float:
        """The mean before any CUPED adjustment (the mean itself here)."""
        return self.mean

    @property
    def variance(self) -> float:
        """Bernoulli variance ``p (1 - p)``."""
        return self.mean * (1.0 - self.mean)


@dataclass(frozen=True)
class Ratio:
    """A ratio metric ``sum(m) / sum(d)`` over units (e.g. revenue per order).

    Example
    -------
    >>> r = Ratio(n=4, m_sum=10.0, m_sum_squares=30.0, d_sum=6.0, d_sum_squares=10.0,
    ...           m_d_sum_of_products=17.0)
    >>> round(r.mean, 4), round(r.variance, 4)
    (1.6667, 0.1646)
    """

    n: int
    m_sum: float
    m_sum_squares: float
    d_sum: float
    d_sum_squares: float
    m_d_sum_of_products: float

    def __post_init__(self) -> None:
        _coerce(self, ("m_sum", "m_sum_squares", "d_sum", "d_sum_squares", "m_d_sum_of_products"))

    @property
    def numerator(self) -> SampleMean:
        """The numerator as a :class:`SampleMean`."""
        return SampleMean(self.n, self.m_sum, self.m_sum_squares)

    @property
    def denominator(self) -> SampleMean:
        """The denominator as a :class:`SampleMean`."""
        return SampleMean(self.n, self.d_sum, self.d_sum_squares)

    @property
    def mean(self) -> float:
        """``m_sum / d_sum`` (0 when the denominator sums to 0)."""
        return self.m_sum / self.d_sum if self.d_sum else 0.0

    @property
    def unadjusted_mean(self) -> float:
        """The ratio itself."""
        return self.mean

    @property
    def covariance(self) -> float:
        """Sample covariance of numerator and denominator."""
        return _covariance(self.n, self.m_d_sum_of_products, self.m_sum, self.d_sum)

    @property
    def variance(self) -> float:
        """Per-unit delta-method variance of the ratio (0 when undefined)."""
        m, d = self.numerator, self.denominator
        if d.mean == 0 or self.n <= 1:
            return 0.0
        return (
            m.variance / d.mean**2
            - 2 * self.covariance * m.mean / d.mean**3
            + m.mean**2 * d.variance / d.mean**4
        )


Simple: TypeAlias = SampleMean | Proportion


@dataclass(frozen=True)
class Adjusted:
    """A CUPED metric: the post-period metric, its pre-period covariate and their cross sum.

    ``theta`` None means "pool it across the arms being compared" (:func:`cuped_theta`),
    which every test does; the properties below treat None as 0 (no adjustment).

    Example
    -------
    >>> a = Adjusted(post=SampleMean(4, 10.0, 30.0), pre=SampleMean(4, 6.0, 10.0),
    ...              post_pre_sum_of_products=17.0, theta=0.5)
    >>> a.mean, a.unadjusted_mean, round(a.variance, 4)
    (1.75, 2.5, 1.0833)
    """

    post: Simple
    pre: Simple
    post_pre_sum_of_products: float
    theta: float | None = None

    def __post_init__(self) -> None:
        for name in ("post", "pre"):
            if not isinstance(getattr(self, name), SampleMean | Proportion):
                got = type(getattr(self, name)).__name__
                raise DataError(f"Adjusted.{name} must be a SampleMean or Proportion; got {got}.")
        if self.post.n != self.pre.n:
            raise DataError(
                f"Adjusted.post and Adjusted.pre must count the same units; "
                f"got n={self.post.n} and n={self.pre.n}."
            )
        value = self.post_pre_sum_of_products
        try:
            object.__setattr__(self, "post_pre_sum_of_products", float(value))
        except (TypeError, ValueError):
            raise DataError(
                f"Adjusted.post_pre_sum_of_products must be a number; got {value!r}."
            ) from None

    @property
    def n(self) -> int:
        """Number of units."""
        return self.post.n

    @property
    def _theta(self) -> float:
        return 0.0 if self.theta is None else self.theta

    @property
    def mean(self) -> float:
        """Adjusted mean ``post - theta * pre``."""
        return self.post.mean - self._theta * self.pre.mean

    @property
    def unadjusted_mean(self) -> float:
        """The post-period mean (the base of relative lift)."""
        return self.post.mean

    @property
    def covariance(self) -> float:
        """Sample covariance of post and pre."""
        return _covariance(self.n, self.post_pre_sum_of_products, self.post.sum, self.pre.sum)

    @property
    def variance(self) -> float:
        """Variance of ``post - theta * pre``."""
        if self.n <= 1:
            return 0.0
        t = self._theta
        return self.post.variance + t**2 * self.pre.variance - 2 * t * self.covariance


Statistic: TypeAlias = SampleMean | Proportion | Ratio | Adjusted


def is_finite(stat: Statistic) -> bool:
    """Whether the mean and variance are finite numbers (no NaN or inf from the sums)."""
    return math.isfinite(stat.mean) and math.isfinite(stat.variance)
