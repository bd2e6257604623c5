"""Experiment statistics on sufficient statistics, formulas as GrowthBook's gbstats.

Each arm is summarised by a few sums (:class:`SampleMean`, :class:`Proportion`, :class:`Ratio`,
CUPED :class:`Adjusted`) that one SQL ``GROUP BY`` computes over any size of log. The tests
compare a treatment with its control: :func:`frequentist` (Welch's t, relative lift by the delta
method), :func:`sequential` (always-valid confidence sequences tuned by ``n_star``, one-sided
variants for guardrails), :func:`bayesian` (Gaussian prior, chance to win, risk). :func:`srm`
checks the traffic split and :func:`adjust_p_values` corrects a family of comparisons. Data that
cannot support a test gives a result whose ``error`` says why; bad arguments raise ConfigError.
"""

from __future__ import annotations

from cairn.experiments.stats.bayesian import bayesian
from cairn.experiments.stats.corrections import adjust_p_values
from cairn.experiments.stats.cuped import cuped_theta
from cairn.experiments.stats.frequentist import frequentist
from cairn.experiments.stats.results import BayesResult, SrmResult, TestResult
from cairn.experiments.stats.sequential import sequential
from cairn.experiments.stats.srm import srm
from cairn.experiments.stats.statistics import Adjusted, Proportion, Ratio, SampleMean, Statistic

__all__ = [
    "Adjusted",
    "BayesResult",
    "Proportion",
    "Ratio",
    "SampleMean",
    "SrmResult",
    "Statistic",
    "TestResult",
    "adjust_p_values",
    "bayesian",
    "cuped_theta",
    "frequentist",
    "sequential",
    "srm",
]
