"""Monitoring: is the live traffic still the data the model was trained on?

A :class:`ReferenceProfile` — written at training time with the model version (quantile bins,
category shares, missing shares, a bounded sample, the score's distribution) — is compared
with current data by :func:`compute_drift`: per feature and for the score, PSI on the
reference's quantile bins (the decision, in bands stable / monitor / drift), Evidently's PSI
for reconciliation, two-sample KS, Jensen–Shannon distance, a two-sample χ², Wasserstein over
the reference std, the missing-share change and unseen categories. :class:`DriftThresholds`
sets bands per feature and optional p-value gates corrected across features (Bonferroni or
Benjamini–Hochberg). The result is a :class:`DriftReport` of :class:`FeatureDrift` values.
Monitoring never needs the raw training data, and never imports serving.
"""

from __future__ import annotations

from cairn.monitoring.drift import compute_drift
from cairn.monitoring.profile import ReferenceProfile
from cairn.monitoring.reference import CategoricalReference, NumericReference
from cairn.monitoring.results import DriftReport, FeatureDrift
from cairn.monitoring.thresholds import DriftThresholds, adjust_p_values

__all__ = [
    "CategoricalReference",
    "DriftReport",
    "DriftThresholds",
    "FeatureDrift",
    "NumericReference",
    "ReferenceProfile",
    "adjust_p_values",
    "compute_drift",
]
