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

A run (:func:`monitor`) reads a :class:`Window` of the prediction log through DuckDB, computes
drift for all traffic and per segment (the same :class:`FeatureDrift` values, also named
:class:`FeatureResult`, tagged with their segment), judges realized performance once labels
are complete enough (:func:`window_performance`), and hands
:class:`~cairn.core.signals.MonitoringSignal` values on; :class:`MonitorHistory` keeps runs
and band changes in the metadata database, :func:`send_alerts` posts the changes,
:class:`MonitoringCollector` exposes the latest results to Prometheus and :func:`write_report`
renders them as HTML.
"""

from __future__ import annotations

from cairn.monitoring.alerts import AlertOutcome, send_alerts
from cairn.monitoring.drift import compute_drift
from cairn.monitoring.gauges import MonitoringCollector
from cairn.monitoring.history import BandChange, MonitorHistory, RunSummary
from cairn.monitoring.performance import WindowPerformance, realized_metrics, window_performance
from cairn.monitoring.profile import ReferenceProfile
from cairn.monitoring.reference import CategoricalReference, NumericReference
from cairn.monitoring.report import render_report, write_report
from cairn.monitoring.results import DriftReport, FeatureDrift, FeatureResult
from cairn.monitoring.runs import MonitorRun, monitor
from cairn.monitoring.thresholds import DriftThresholds
from cairn.monitoring.window import Window, read_window, resolve_window

__all__ = [
    "AlertOutcome",
    "BandChange",
    "CategoricalReference",
    "DriftReport",
    "DriftThresholds",
    "FeatureDrift",
    "FeatureResult",
    "MonitorHistory",
    "MonitorRun",
    "MonitoringCollector",
    "NumericReference",
    "ReferenceProfile",
    "RunSummary",
    "Window",
    "WindowPerformance",
    "compute_drift",
    "monitor",
    "read_window",
    "realized_metrics",
    "render_report",
    "resolve_window",
    "send_alerts",
    "window_performance",
    "write_report",
]
