"""Experiment analysis: A/B statistics on sufficient statistics and power planning.

:mod:`cairn.experiments.stats` compares arms from per-arm sums (frequentist, sequential,
Bayesian, CUPED, ratio metrics, sample-ratio mismatch, multiple-comparison corrections) with
the formulas of GrowthBook's gbstats; :mod:`cairn.experiments.power` plans sample size,
duration and minimum detectable effect before an experiment starts.
"""

from __future__ import annotations

from cairn.experiments.power import (
    ArmPlan,
    PowerDesign,
    PowerPlan,
    comparison_power,
    minimum_detectable_effect,
    sample_size,
    sequential_minimum_detectable_effect,
    sequential_sample_size,
)
from cairn.experiments.stats import (
    Adjusted,
    BayesResult,
    Proportion,
    Ratio,
    SampleMean,
    SrmResult,
    Statistic,
    TestResult,
    adjust_p_values,
    bayesian,
    cuped_theta,
    frequentist,
    sequential,
    srm,
)

__all__ = [
    "Adjusted",
    "ArmPlan",
    "BayesResult",
    "PowerDesign",
    "PowerPlan",
    "Proportion",
    "Ratio",
    "SampleMean",
    "SrmResult",
    "Statistic",
    "TestResult",
    "adjust_p_values",
    "bayesian",
    "comparison_power",
    "cuped_theta",
    "frequentist",
    "minimum_detectable_effect",
    "sample_size",
    "sequential",
    "sequential_minimum_detectable_effect",
    "sequential_sample_size",
    "srm",
]
