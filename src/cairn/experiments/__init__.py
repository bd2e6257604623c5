"""Experiment analysis: A/B statistics on sufficient statistics and power planning.

:mod:`cairn.experiments.stats` compares arms from per-arm sums (frequentist, sequential,
Bayesian, CUPED, ratio metrics, sample-ratio mismatch, multiple-comparison corrections) with
the formulas of GrowthBook's gbstats; :mod:`cairn.experiments.power` plans sample size,
duration and minimum detectable effect before an experiment starts. :func:`analyze` runs an
experiment from the prediction log: one SQL aggregate of sufficient statistics per arm and
segment (:mod:`~cairn.experiments.aggregate`), metrics from ``experiments.yaml``
(:class:`MetricCatalog`), maturity and label completeness, then plain result objects
(:class:`ExperimentAnalysis`); :func:`compare_champion` judges a shadow challenger
(:mod:`cairn.experiments.champion`); :func:`write_html` renders a self-contained report.
:func:`analyze_deployment` and :func:`compare_deployment` run both on a deployment's log (what
``cairn experiment analyze|compare`` call); :mod:`cairn.experiments.gates` judges canary stages
under the one :class:`~cairn.core.gate_policy.GatePolicy`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cairn.core.lazy import lazy_exports

if TYPE_CHECKING:
    from cairn.experiments.aggregate import SufficientStatistics, sufficient_statistics
    from cairn.experiments.analysis import analyze
    from cairn.experiments.analysis_results import (
        ArmMetric,
        ArmUnits,
        Comparison,
        ExperimentAnalysis,
        MetricAnalysis,
    )
    from cairn.experiments.champion import ChampionComparison, compare_champion
    from cairn.experiments.deployment import SplitHistory, analyze_deployment, compare_deployment
    from cairn.experiments.maturity import Completeness
    from cairn.experiments.metrics import BUILTIN_METRICS, Metric, MetricCatalog, builtin_metrics
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
    from cairn.experiments.report import render_html, write_html
    from cairn.experiments.segments import Dimension
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

_HOME = {
    "Adjusted": "cairn.experiments.stats",
    "ArmMetric": "cairn.experiments.analysis_results",
    "ArmPlan": "cairn.experiments.power",
    "ArmUnits": "cairn.experiments.analysis_results",
    "BUILTIN_METRICS": "cairn.experiments.metrics",
    "BayesResult": "cairn.experiments.stats",
    "ChampionComparison": "cairn.experiments.champion",
    "Comparison": "cairn.experiments.analysis_results",
    "Completeness": "cairn.experiments.maturity",
    "Dimension": "cairn.experiments.segments",
    "ExperimentAnalysis": "cairn.experiments.analysis_results",
    "Metric": "cairn.experiments.metrics",
    "MetricAnalysis": "cairn.experiments.analysis_results",
    "MetricCatalog": "cairn.experiments.metrics",
    "PowerDesign": "cairn.experiments.power",
    "PowerPlan": "cairn.experiments.power",
    "Proportion": "cairn.experiments.stats",
    "Ratio": "cairn.experiments.stats",
    "SampleMean": "cairn.experiments.stats",
    "SplitHistory": "cairn.experiments.deployment",
    "SrmResult": "cairn.experiments.stats",
    "Statistic": "cairn.experiments.stats",
    "SufficientStatistics": "cairn.experiments.aggregate",
    "TestResult": "cairn.experiments.stats",
    "adjust_p_values": "cairn.experiments.stats",
    "analyze": "cairn.experiments.analysis",
    "analyze_deployment": "cairn.experiments.deployment",
    "bayesian": "cairn.experiments.stats",
    "builtin_metrics": "cairn.experiments.metrics",
    "compare_champion": "cairn.experiments.champion",
    "compare_deployment": "cairn.experiments.deployment",
    "comparison_power": "cairn.experiments.power",
    "cuped_theta": "cairn.experiments.stats",
    "frequentist": "cairn.experiments.stats",
    "minimum_detectable_effect": "cairn.experiments.power",
    "render_html": "cairn.experiments.report",
    "sample_size": "cairn.experiments.power",
    "sequential": "cairn.experiments.stats",
    "sequential_minimum_detectable_effect": "cairn.experiments.power",
    "sequential_sample_size": "cairn.experiments.power",
    "srm": "cairn.experiments.stats",
    "sufficient_statistics": "cairn.experiments.aggregate",
    "write_html": "cairn.experiments.report",
}

# Loaded on first use: importing one submodule (say, the calibration check the monitoring
# service needs) does not load every analysis and SciPy with it.
__getattr__ = lazy_exports(__name__, _HOME)

__all__ = [
    "BUILTIN_METRICS",
    "Adjusted",
    "ArmMetric",
    "ArmPlan",
    "ArmUnits",
    "BayesResult",
    "ChampionComparison",
    "Comparison",
    "Completeness",
    "Dimension",
    "ExperimentAnalysis",
    "Metric",
    "MetricAnalysis",
    "MetricCatalog",
    "PowerDesign",
    "PowerPlan",
    "Proportion",
    "Ratio",
    "SampleMean",
    "SplitHistory",
    "SrmResult",
    "Statistic",
    "SufficientStatistics",
    "TestResult",
    "adjust_p_values",
    "analyze",
    "analyze_deployment",
    "bayesian",
    "builtin_metrics",
    "compare_champion",
    "compare_deployment",
    "comparison_power",
    "cuped_theta",
    "frequentist",
    "minimum_detectable_effect",
    "render_html",
    "sample_size",
    "sequential",
    "sequential_minimum_detectable_effect",
    "sequential_sample_size",
    "srm",
    "sufficient_statistics",
    "write_html",
]
