"""Champion vs challenger: judge a shadow model against the live one once outcomes arrive.

Shadow challengers score the same requests as the champion (logged under the same prediction
id), so the two are compared on identical cases: DeLong's paired AUC test, KS, precision and
recall at the operating threshold, calibration (Brier, reliability), approval-rate difference,
adverse impact ratios by a protected attribute, latency; :func:`compare_champion` ends with a
recommendation (promote, keep or inconclusive) and its reasons.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cairn.core.lazy import lazy_exports

if TYPE_CHECKING:
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

_HOME = {
    "AdverseImpact": "cairn.experiments.champion.fairness",
    "AucDifference": "cairn.experiments.champion.delong",
    "AucResult": "cairn.experiments.champion.delong",
    "ChampionComparison": "cairn.experiments.champion.compare",
    "Classification": "cairn.experiments.champion.calibration",
    "GroupRate": "cairn.experiments.champion.fairness",
    "ModelMetrics": "cairn.experiments.champion.compare",
    "PairedDifference": "cairn.experiments.champion.calibration",
    "Policy": "cairn.experiments.champion.compare",
    "ReliabilityBin": "cairn.experiments.champion.calibration",
    "adverse_impact": "cairn.experiments.champion.fairness",
    "classification": "cairn.experiments.champion.calibration",
    "compare_champion": "cairn.experiments.champion.compare",
    "delong_auc": "cairn.experiments.champion.delong",
    "delong_test": "cairn.experiments.champion.delong",
    "ks_statistic": "cairn.experiments.champion.calibration",
    "paired_difference": "cairn.experiments.champion.calibration",
    "reliability_table": "cairn.experiments.champion.calibration",
}

# Loaded on first use: importing one submodule (say, the calibration check the monitoring
# service needs) does not load every analysis and SciPy with it.
__getattr__ = lazy_exports(__name__, _HOME)

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
