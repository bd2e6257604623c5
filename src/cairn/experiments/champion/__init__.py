"""Champion vs challenger: judge a shadow model against the live one once outcomes arrive.

Shadow challengers score the same requests as the champion (logged under the same prediction
id), so the two are compared on identical cases: DeLong's paired AUC test, KS, precision and
recall at the operating threshold, calibration (Brier, reliability), approval-rate difference,
adverse impact ratios by a protected attribute, latency; :func:`compare_champion` ends with a
recommendation (promote, keep or inconclusive) and its reasons.
"""

from __future__ import annotations

from cairn.experiments.champion.calibration import (
    Classification,
    PairedDifference,
    ReliabilityBin,
    classification,
    ks_statistic,
    paired_difference,
    reliability_table,
)
from cairn.experiments.champion.compare import (
    ChampionComparison,
    ModelMetrics,
    Policy,
    compare_champion,
)
from cairn.experiments.champion.delong import AucDifference, AucResult, delong_auc, delong_test
from cairn.experiments.champion.fairness import AdverseImpact, GroupRate, adverse_impact

__all__ = [
    "AdverseImpact",
    "AucDifference",
    "AucResult",
    "ChampionComparison",
    "Classification",
    "GroupRate",
    "ModelMetrics",
    "PairedDifference",
    "Policy",
    "ReliabilityBin",
    "adverse_impact",
    "classification",
    "compare_champion",
    "delong_auc",
    "delong_test",
    "ks_statistic",
    "paired_difference",
    "reliability_table",
]
