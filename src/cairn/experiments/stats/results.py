"""Plain result objects of the statistical tests, and the reasons a test can decline to run.

A test that cannot run on its data (an empty arm, zero variance, a zero baseline for a
relative lift) returns a result whose ``error`` starts with one of the reason codes below,
followed by a sentence naming the arm; the numbers are then the uninformative defaults that
gbstats returns (estimate 0, interval (0, 0)).
"""

from __future__ import annotations

from dataclasses import dataclass

EMPTY_ARM = "empty arm"
TOO_FEW_UNITS = "too few units"
ZERO_VARIANCE = "zero variance"
ZERO_BASELINE = "zero baseline"
ZERO_DENOMINATOR = "zero denominator"
INVALID_STATISTICS = "invalid statistics"


@dataclass(frozen=True)
class TestResult:
    """A frequentist or sequential comparison of a treatment with its control.

    Parameters
    ----------
    expected : float
        The lift: ``(treatment - control) / control`` when ``relative``, else the difference.
    ci : tuple of float
        Confidence interval (always-valid for sequential tests); one-sided tests have an
        infinite bound.
    p_value : float or None
        None when the test could not run (see ``error``).
    se : float
        Standard error of ``expected``.
    relative : bool
        Whether ``expected`` and ``ci`` are relative lifts.
    error : str or None
        Why the test could not run, starting with a reason code (``"zero variance: ..."``).

    Example
    -------
    >>> TestResult(0.1, (0.02, 0.18), 0.01, 0.04, True, None).significant(0.05)
    True
    """

    __test__ = False  # not a pytest test class

    expected: float
    ci: tuple[float, float]
    p_value: float | None
    se: float
    relative: bool
    error: str | None = None

    def significant(self, alpha: float = 0.05) -> bool:
        """Whether the p-value is below ``alpha`` (False when the test did not run)."""
        return self.p_value is not None and self.p_value < alpha


@dataclass(frozen=True)
class BayesResult:
    """A Bayesian comparison with a Gaussian prior on the effect.

    Parameters
    ----------
    expected : float
        Posterior mean of the lift.
    ci : tuple of float
        Equal-tailed credible interval at level ``1 - alpha``.
    chance_to_win : float
        Posterior probability that the treatment is better (lift > 0).
    risk : tuple of float
        Expected loss of choosing control, and of choosing the treatment.
    error : str or None
        Why the test could not run (then chance to win is 0.5 and the rest 0, as gbstats).
    se : float
        Posterior standard deviation of the lift.
    relative : bool
        Whether the lift is relative.

    Example
    -------
    >>> BayesResult(0.1, (0.0, 0.2), 0.97, (0.1, 0.001), None).chance_to_win
    0.97
    """

    expected: float
    ci: tuple[float, float]
    chance_to_win: float
    risk: tuple[float, float]
    error: str | None = None
    se: float = 0.0
    relative: bool = True


@dataclass(frozen=True)
class SrmResult:
    """A sample-ratio-mismatch check: the χ² goodness of fit of unit counts to arm weights.

    Parameters
    ----------
    p_value, chi2 : float
        Test p-value and statistic.
    mismatch : bool
        ``p_value < threshold``: the assignment is broken, do not trust the results.
    expected : tuple of float
        Expected units per arm under the weights.
    error : str or None
        Why the check could not run (then p_value is 1 and mismatch False).

    Example
    -------
    >>> SrmResult(0.5, 0.45, False, (500.0, 500.0)).mismatch
    False
    """

    p_value: float
    chi2: float
    mismatch: bool
    expected: tuple[float, ...]
    error: str | None = None
