"""One treatment arm against its control on one metric: the statistics and the tests.

:class:`ArmComparer` turns two arms' sums into gbstats-style statistics (:func:`arm_statistics`:
CUPED-adjusted when a pre-period exists and the pooled θ is not 0), runs the relative and
absolute tests (fixed-horizon or sequential; one-sided toward harm for guardrails) and the
Bayesian test, and orients chance to win and risk by the metric's good direction.
"""

from __future__ import annotations

from cairn.experiments.aggregate import ArmSums, MetricSums
from cairn.experiments.analysis_results import Comparison
from cairn.experiments.metrics import Metric
from cairn.experiments.stats import (
    Adjusted,
    Proportion,
    Ratio,
    SampleMean,
    Statistic,
    TestResult,
    bayesian,
    cuped_theta,
    frequentist,
    sequential,
)
from cairn.experiments.stats._checks import Alternative


class ArmComparer:
    """The statistical tests of one analysis, with its options.

    Example
    -------
    >>> from cairn.experiments.aggregate import ArmSums, MetricSums
    >>> from cairn.experiments.metrics import BUILTIN_METRICS
    >>> def arm(name, wins):
    ...     return ArmSums(name, 1000, {"approval_rate": MetricSums(1000, wins, wins)})
    >>> c = ArmComparer(False, 10_000, 0.05, True).compare(
    ...     BUILTIN_METRICS["approval_rate"], arm("control", 500), arm("b", 560), None)
    >>> round(c.relative.expected, 2), c.error
    (0.12, None)
    """

    def __init__(self, sequential_test: bool, n_star: float, alpha: float, cuped: bool) -> None:
        self.sequential, self.n_star, self.alpha, self.cuped = sequential_test, n_star, alpha, cuped

    def test(
        self, c: Statistic, t: Statistic, relative: bool, alternative: Alternative = "two-sided"
    ) -> TestResult:
        if self.sequential:
            return sequential(
                c,
                t,
                n_star=self.n_star,
                relative=relative,
                alpha=self.alpha,
                alternative=alternative,
            )
        return frequentist(c, t, relative=relative, alpha=self.alpha, alternative=alternative)

    def compare(
        self, metric: Metric, control: ArmSums, treatment: ArmSums, segment: str | None
    ) -> Comparison:
        c_sums, t_sums = control.metrics[metric.name], treatment.metrics[metric.name]
        c_stat, t_stat, adjusted = arm_statistics(metric, c_sums, t_sums, self.cuped)
        side: Alternative = "two-sided"
        if metric.guardrail:  # one-sided toward harm
            side = "greater" if metric.direction == "decrease" else "less"
        relative = self.test(c_stat, t_stat, True, side)
        absolute = self.test(c_stat, t_stat, False, side)
        bayes = bayesian(c_stat, t_stat, relative=True, alpha=self.alpha)
        good_up = metric.direction == "increase"
        chance = bayes.chance_to_win if good_up else 1.0 - bayes.chance_to_win
        risk = bayes.risk if good_up else (bayes.risk[1], bayes.risk[0])
        error = relative.error or absolute.error
        if error is not None:
            chance, risk = 0.5, (0.0, 0.0)
        return Comparison(
            metric=metric.name,
            arm=treatment.arm,
            control=control.arm,
            control_mean=metric_mean(metric, c_sums),
            treatment_mean=metric_mean(metric, t_sums),
            control_n=c_sums.n,
            treatment_n=t_sums.n,
            relative=relative,
            absolute=absolute,
            bayes=bayes,
            chance_to_win=chance,
            risk=risk,
            cuped=adjusted,
            p_value=relative.p_value,
            adjusted_p_value=relative.p_value,
            verdict="error" if error else "flat",
            segment=segment,
            error=error,
        )


def arm_statistics(
    metric: Metric, c: MetricSums, t: MetricSums, cuped: bool
) -> tuple[Statistic, Statistic, bool]:
    """The arms' statistics; CUPED-adjusted when a pre-period exists and θ is not 0."""
    if metric.kind == "ratio":
        return _ratio(c), _ratio(t), False
    post_c, post_t = (
        _simple(metric, c.n, c.sum, c.sum_squares),
        _simple(metric, t.n, t.sum, t.sum_squares),
    )
    if not cuped or (c.pre_n == 0 and t.pre_n == 0) or c.n == 0 or t.n == 0:
        return post_c, post_t, False
    pre_c = _simple(metric, c.n, c.pre_sum, c.pre_sum_squares)
    pre_t = _simple(metric, t.n, t.pre_sum, t.pre_sum_squares)
    adj_c = Adjusted(post_c, pre_c, c.post_pre_sum_of_products)
    adj_t = Adjusted(post_t, pre_t, t.post_pre_sum_of_products)
    if cuped_theta(adj_c, adj_t) == 0:
        return post_c, post_t, False
    return adj_c, adj_t, True


def _simple(metric: Metric, n: int, total: float, squares: float) -> SampleMean | Proportion:
    if metric.kind == "proportion":
        return Proportion(n, total)
    return SampleMean(n, total, squares)


def _ratio(s: MetricSums) -> Ratio:
    return Ratio(s.n, s.sum, s.sum_squares, s.d_sum, s.d_sum_squares, s.m_d_sum_of_products)


def metric_mean(metric: Metric, s: MetricSums) -> float:
    if metric.kind == "ratio":
        return s.sum / s.d_sum if s.d_sum else 0.0
    return s.sum / s.n if s.n else 0.0
