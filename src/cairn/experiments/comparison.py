"""One treatment arm against its control on one metric: the statistics and the tests.

:class:`ArmComparer` turns two arms' sums into gbstats-style statistics, runs the relative and
absolute tests (fixed-horizon or sequential; one-sided toward harm for guardrails) on the raw
metric, and again CUPED-adjusted when the metric declares a covariate and the adjustment is
sound (:func:`cuped_statistics`; otherwise the result says why not), then the Bayesian test on
whichever the verdict rests on, and orients chance to win and risk by the metric's good
direction.
"""

from __future__ import annotations

import math
from dataclasses import replace

from cairn.experiments.aggregate import ArmSums, MetricSums
from cairn.experiments.analysis_results import Comparison, CupedResult, Estimates
from cairn.experiments.covariates import NEAR_ZERO_RESIDUAL
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
        side: Alternative = "two-sided"
        if metric.guardrail:  # one-sided toward harm
            side = "greater" if metric.direction == "decrease" else "less"
        raw_c, raw_t = raw_statistic(metric, c_sums), raw_statistic(metric, t_sums)
        raw = Estimates(
            metric_mean(metric, c_sums),
            metric_mean(metric, t_sums),
            self.test(raw_c, raw_t, True, side),
            self.test(raw_c, raw_t, False, side),
        )
        cuped, stats = self._cuped(metric, c_sums, t_sums, raw, side)
        c_stat, t_stat = stats or (raw_c, raw_t)
        used = cuped.adjusted if cuped.applied and cuped.adjusted else raw
        bayes = bayesian(c_stat, t_stat, relative=True, alpha=self.alpha)
        good_up = metric.direction == "increase"
        chance = bayes.chance_to_win if good_up else 1.0 - bayes.chance_to_win
        risk = bayes.risk if good_up else (bayes.risk[1], bayes.risk[0])
        error = used.relative.error or used.absolute.error
        if error is not None:
            chance, risk = 0.5, (0.0, 0.0)
        return Comparison(
            metric=metric.name,
            arm=treatment.arm,
            control=control.arm,
            control_mean=raw.control_mean,
            treatment_mean=raw.treatment_mean,
            control_n=c_sums.n,
            treatment_n=t_sums.n,
            relative=used.relative,
            absolute=used.absolute,
            bayes=bayes,
            chance_to_win=chance,
            risk=risk,
            cuped=cuped,
            p_value=used.relative.p_value,
            adjusted_p_value=used.relative.p_value,
            verdict="error" if error else "flat",
            segment=segment,
            error=error,
        )

    def _cuped(
        self, metric: Metric, c: MetricSums, t: MetricSums, raw: Estimates, side: Alternative
    ) -> tuple[CupedResult, tuple[Adjusted, Adjusted] | None]:
        """The CUPED outcome, and the adjusted statistics when it applies."""
        covariate = metric.cuped
        if covariate is None:
            reason = f"not declared: experiments.yaml declares no cuped covariate for {metric.name}"
            return CupedResult(False, reason, raw=raw), None
        declared = CupedResult(
            False, covariate=covariate.metric, window=covariate.window_text,
            pre_units=(c.pre_n, t.pre_n), raw=raw,
        )  # fmt: skip
        if not self.cuped:
            return replace(declared, reason="turned off for this analysis (--no-cuped)"), None
        stats = cuped_statistics(metric, c, t)
        if isinstance(stats, str):
            return replace(declared, reason=stats), None
        adj_c, adj_t = stats
        theta = adj_c.theta or 0.0
        adjusted = Estimates(
            *_adjusted_means(c, t, theta),
            self.test(adj_c, adj_t, True, side),
            self.test(adj_c, adj_t, False, side),
        )
        error = adjusted.relative.error or adjusted.absolute.error
        if error is not None and raw.relative.error is None and raw.absolute.error is None:
            reason = f"the adjusted test could not run ({error})"
            return replace(declared, reason=reason, theta=theta), None
        reduction = None
        if raw.relative.se > 0:
            reduction = 1.0 - (adjusted.relative.se / raw.relative.se) ** 2
        applied = replace(
            declared, applied=True, theta=theta, variance_reduction=reduction, adjusted=adjusted
        )
        return applied, (adj_c, adj_t)


def raw_statistic(metric: Metric, s: MetricSums) -> Statistic:
    """One arm's unadjusted statistic of ``metric``."""
    if metric.kind == "ratio":
        return _ratio(s)
    return _simple(metric.kind, s.n, s.sum, s.sum_squares)


def cuped_statistics(
    metric: Metric, c: MetricSums, t: MetricSums
) -> tuple[Adjusted, Adjusted] | str:
    """Both arms CUPED-adjusted with the pooled θ, or why the adjustment is not sound.

    Not sound: no covariate declared, an empty arm, fewer than the covariate's ``min_units``
    units with a pre-period value in an arm, θ 0 or not finite, or an arm whose adjusted
    variance is (near) zero while its raw variance is not (the covariate reproduces the metric).

    Example
    -------
    >>> from cairn.experiments.covariates import Covariate
    >>> m = Metric("rate", "proportion", "positive", cuped=Covariate("rate", 86_400_000_000,
    ...            sql="positive", kind="proportion"))
    >>> same = MetricSums(100, 50, 50, pre_n=100, pre_sum=50, pre_sum_squares=50,
    ...                   post_pre_sum_of_products=50)
    >>> cuped_statistics(m, same, same).split(":")[0]
    'near-zero residual variance'
    """
    covariate = metric.cuped
    if covariate is None or metric.kind == "ratio":
        return f"not declared: {metric.name} has no cuped covariate"
    if c.n == 0 or t.n == 0:
        return "an arm has no units with a value of the metric"
    if min(c.pre_n, t.pre_n) < covariate.min_units:
        return (
            f"too few units with a pre-period: control {c.pre_n}, treatment {t.pre_n}; "
            f"at least {covariate.min_units} each are needed (cuped.min_units)"
        )
    arms = []
    for s in (c, t):
        post = _simple(metric.kind, s.n, s.sum, s.sum_squares)
        pre = _simple(covariate.kind, s.n, s.pre_sum, s.pre_sum_squares)
        arms.append(Adjusted(post, pre, s.post_pre_sum_of_products))
    theta = cuped_theta(*arms)
    if not math.isfinite(theta):
        return f"θ is not finite ({theta}): the pre-period sums are not usable"
    if theta == 0:
        return "θ is 0: the covariate does not vary, or does not co-vary with the metric"
    adj_c, adj_t = (replace(a, theta=theta) for a in arms)
    for name, a in (("control", adj_c), ("treatment", adj_t)):
        if a.post.variance > 0 and a.variance <= NEAR_ZERO_RESIDUAL * a.post.variance:
            return (
                f"near-zero residual variance: the covariate reproduces the metric in the {name} "
                f"arm (adjusted variance {max(a.variance, 0.0):.3g} vs raw {a.post.variance:.3g}; "
                "is the pre-period a replay of the experiment?)"
            )
    return adj_c, adj_t


def _adjusted_means(c: MetricSums, t: MetricSums, theta: float) -> tuple[float, float]:
    """Each arm's mean minus θ times its pre-period mean's distance from the pooled one."""
    pooled = (c.pre_sum + t.pre_sum) / (c.n + t.n)
    return tuple(  # type: ignore[return-value]
        s.sum / s.n - theta * (s.pre_sum / s.n - pooled) for s in (c, t)
    )


def _simple(kind: str, n: int, total: float, squares: float) -> SampleMean | Proportion:
    if kind == "proportion":
        return Proportion(n, total)
    return SampleMean(n, total, squares)


def _ratio(s: MetricSums) -> Ratio:
    return Ratio(s.n, s.sum, s.sum_squares, s.d_sum, s.d_sum_squares, s.m_d_sum_of_products)


def metric_mean(metric: Metric, s: MetricSums) -> float:
    if metric.kind == "ratio":
        return s.sum / s.d_sum if s.d_sum else 0.0
    return s.sum / s.n if s.n else 0.0
