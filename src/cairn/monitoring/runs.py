"""One monitoring run: window → drift (overall and per segment) → performance → signals.

:func:`monitor` reads the deployment's latest window of primary predictions
(:mod:`cairn.monitoring.window`), compares every model input and the score with the serving
model's reference profile (:func:`cairn.monitoring.compute_drift`), optionally per segment of
a column, judges the realized performance as far as labels allow
(:mod:`cairn.monitoring.performance`) and turns what left its band into
:class:`~cairn.core.signals.MonitoringSignal` values. It only computes: the composition root
stores the run (:class:`~cairn.monitoring.history.MonitorHistory`) and raises alerts.

A column that is empty or all null in the window gets ``status="error"`` (never a failed
run); an empty window gives a run with ``status="empty"`` and a message saying so. Score drift
is measured on the rows the reference's own model version scored (a canary's or a previous
champion's scores are another distribution); input drift on every primary row.

Per segment (``segment``: a log column such as ``arm``, a model input or an entity key), each
of the ``max_segments`` largest segments of the window is compared with the *same segment in
the preceding window* of the same length, profiled on the fly with ``bins`` quantile bins: the
training profile has no per-segment distributions, and a segment compared with all training
traffic differs by construction. So segment results say where the traffic is changing now;
drift against training is the all-traffic result. Segments with fewer than
``min_segment_rows`` rows on either side are not compared (no results, only their size):
PSI on a few dozen rows is noise.

**Per model version.** ``version``, ``arm`` and ``shadow`` narrow the run to one group of the
deployment's traffic (one model version, one A/B or canary arm, the shadow scores), which is
then judged against the reference profile given (the one stored with that version): a canary,
a previous champion and a shadow are other models, and judging their rows together "against
v2" mixes distributions. :class:`~cairn.monitoring.service.ProjectMonitoring` runs one group
per (version, arm, shadow) by default. With matured labels the run also checks calibration
(:mod:`cairn.monitoring.calibration_signal`) and the label rate against the reference's
(:mod:`cairn.monitoring.label_rate`), raising ``calibration`` and ``label_rate`` signals.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from cairn.core.config import MonitoringSettings
from cairn.core.signals import MonitoringSignal
from cairn.core.types import Micros
from cairn.monitoring.calibration_signal import MAX_ECE, MIN_LABELED
from cairn.monitoring.drift import SCORE, compute_drift
from cairn.monitoring.label_rate import reference_label
from cairn.monitoring.performance import WindowPerformance, window_performance
from cairn.monitoring.profile import ReferenceProfile
from cairn.monitoring.results import ALL, FeatureDrift, FeatureResult
from cairn.monitoring.thresholds import DriftThresholds
from cairn.monitoring.window import (
    PREDICTIONS,
    SEGMENT,
    ColumnKind,
    Window,
    read_window,
    resolve_window,
)

__all__ = [
    "ALL",
    "OTHER",
    "FeatureResult",
    "MonitorRun",
    "RunStatus",
    "monitor",
    "signals_of",
    "thresholds_of",
]

RunStatus = Literal["ok", "empty"]
OTHER = "(other)"
"""The segment of the values beyond the ``max_segments`` largest ones."""


@dataclass(frozen=True)
class MonitorRun:
    """What one run found. ``run_id`` is set once :class:`MonitorHistory` stored it."""

    deployment: str
    model_name: str
    model_version: str
    window: Window
    status: RunStatus
    message: str
    rows: int
    features: list[FeatureResult]
    performance: WindowPerformance | None
    signals: list[MonitoringSignal]
    started_at: datetime
    seconds: float
    segment_column: str | None = None
    segments: dict[str, int] = field(default_factory=dict)
    run_id: int | None = None

    def results(self, segment: str = ALL) -> list[FeatureResult]:
        """The inputs' and the score's results for all traffic (or one segment)."""
        return [f for f in self.features if f.segment == segment]

    @property
    def score(self) -> FeatureResult | None:
        """The score's result for all traffic."""
        return next((f for f in self.results() if f.kind == SCORE), None)

    def flagged(self, segment: str = ALL) -> list[str]:
        """Inputs (and ``score``) that drifted, for all traffic or one segment."""
        return [f.feature for f in self.results(segment) if f.drifted and f.status == "ok"]

    def errors(self) -> list[FeatureResult]:
        """Columns that could not be compared (empty, all null...), all traffic."""
        return [f for f in self.results() if f.status == "error"]

    def with_id(self, run_id: int) -> MonitorRun:
        """The same run, stored as ``run_id``."""
        return replace(self, run_id=run_id)


def thresholds_of(settings: MonitoringSettings) -> DriftThresholds:
    """The drift thresholds the monitoring settings describe."""
    return DriftThresholds(
        psi=(settings.psi_monitor, settings.psi_drift),
        features=settings.bands,
        alpha=settings.alpha,
        null_share=settings.null_share,
    )


def monitor(
    con: duckdb.DuckDBPyConnection,
    profile: ReferenceProfile,
    *,
    deployment: str,
    model_name: str,
    model_version: str,
    width: Micros,
    as_of: Micros | None = None,
    threshold: float = 0.5,
    baseline: Mapping[str, float] | None = None,
    segment: str | None = None,
    settings: MonitoringSettings | None = None,
    relation: str = PREDICTIONS,
    outcomes: str = "outcomes",
    decision: str | None = None,
    maturity: Micros = 0,
    version: str | None = None,
    arm: str | None = None,
    shadow: bool = False,
    max_ece: float = MAX_ECE,
    min_labeled: int = MIN_LABELED,
) -> MonitorRun:
    """Run monitoring once for ``deployment`` over the window of ``width`` ending at
    ``as_of`` (default: now, or the deployment's last prediction when its log ends earlier;
    see :func:`~cairn.monitoring.window.resolve_window`).

    Parameters
    ----------
    con:
        A DuckDB connection with the prediction log (``relation``) and outcomes.
    profile:
        The reference profile of the serving model version (``model_name``/``model_version``).
    threshold:
        The deployment's decision threshold (precision/recall of ``score >= threshold``: the
        positive decision, named ``decision``).
    baseline:
        The version's validation metrics (``auc``, ``ks``...) performance is compared with.
    segment:
        A log column, model input or entity key: drift is also computed per value of it.
    settings:
        Bands, test level, completeness and allowed drop (``monitoring`` in cairn.yaml).
    maturity:
        The deployment's label maturity (µs): performance is judged on the predictions of the
        window moved back by it (drift is not).
    version, arm, shadow:
        Read only this model version's rows, this arm's, and the shadow rows instead of the
        primary ones (default: every primary row, as before).
    max_ece, min_labeled:
        The calibration signal's ECE limit, and the labels the calibration and label-rate
        signals need.
    """
    settings = settings or MonitoringSettings()
    began, clock = datetime.now(UTC), time.perf_counter()
    window = resolve_window(
        con, deployment, width=width, as_of=as_of, relation=relation,
        version=version, arm=arm, shadow=shadow,
    )  # fmt: skip
    kinds = _column_kinds(profile)
    table = read_window(con, window, kinds, relation=relation, segment=segment)
    common: dict[str, Any] = {
        "deployment": deployment,
        "model_name": model_name,
        "model_version": model_version,
        "window": window,
        "started_at": began,
        "segment_column": segment,
    }
    if table.num_rows == 0:
        rows = "shadow prediction" if window.shadow else "primary prediction"
        group = "" if window.group() == "all primary rows" else f" (group {window.group()})"
        message = f"Empty window: no {rows} of {deployment!r} in {window.describe()}{group}."
        return MonitorRun(
            **common, status="empty", message=message, rows=0, features=[],
            performance=None, signals=[], seconds=time.perf_counter() - clock,
        )  # fmt: skip
    limits = thresholds_of(settings)
    features = _drift(profile, table, model_name, model_version, limits, ALL)
    sizes: dict[str, int] = {}
    if segment is not None:
        before = replace(
            window, start=window.start - window.width, end=window.start, as_of=window.start,
            anchor="as_of",
        )  # fmt: skip
        previous = read_window(con, before, kinds, relation=relation, segment=segment)
        kept = _largest(table.column(SEGMENT), settings.max_segments)
        now_labels = _labels(table.column(SEGMENT), kept)
        then_labels = _labels(previous.column(SEGMENT), kept)
        for value in sorted(set(now_labels.to_pylist())):
            part = table.filter(pc.equal(now_labels, value))
            name = f"{segment}={value}"
            sizes[name] = part.num_rows
            ref = previous.filter(pc.equal(then_labels, value))
            features += _segment_drift(part, ref, kinds, limits, settings, name)
    reference_rate, reference_count = reference_label(profile.label)
    performance = window_performance(
        con,
        window,
        threshold=threshold,
        baseline=baseline,
        min_completeness=settings.completeness,
        max_drop=settings.performance_drop,
        relation=relation,
        outcomes=outcomes,
        decision=decision,
        maturity=maturity,
        reference_rate=reference_rate,
        reference_count=reference_count,
        max_ece=max_ece,
        min_labeled=min_labeled,
    )
    signals = signals_of(
        features, performance, deployment, model_name, model_version, window.end, settings
    )
    flagged = [f.feature for f in features if f.segment == ALL and f.drifted]
    message = f"{table.num_rows:,} predictions in {window.describe()}; " + (
        f"drifted: {', '.join(flagged)}" if flagged else "no drift"
    )
    return MonitorRun(
        **common, status="ok", message=message, rows=table.num_rows, features=features,
        performance=performance, signals=signals, segments=sizes,
        seconds=time.perf_counter() - clock,
    )  # fmt: skip


def signals_of(
    features: Sequence[FeatureResult],
    performance: WindowPerformance | None,
    deployment: str,
    model_name: str,
    model_version: str,
    at: Micros,
    settings: MonitoringSettings,
) -> list[MonitoringSignal]:
    """A signal per drifted input or score (any segment), per degraded metric, and for a
    miscalibrated score or a moved label rate."""
    out: list[MonitoringSignal] = []
    limits = thresholds_of(settings)
    for f in features:
        if f.status != "ok" or not f.drifted:
            continue
        monitor_at, drift_at = limits.bands_for(f.feature)
        details = {
            k: v
            for k, v in f.to_dict().items()
            if k not in ("labels", "reference_proportions", "current_proportions", "segment")
        }
        out.append(
            MonitoringSignal(
                kind="score_drift" if f.kind == SCORE else "drift",
                deployment=deployment,
                model_name=model_name,
                model_version=model_version,
                subject=f.feature,
                value=float(f.psi if f.psi is not None else 0.0),
                threshold=drift_at if f.band == "drift" else monitor_at,
                band="drift"
                if f.band == "drift"
                else "monitor"
                if f.band == "monitor"
                else "stable",
                at=at,
                details=details,
                segment=f.segment or None,
            )
        )
    if performance is not None and performance.status == "judged":
        for metric in performance.degraded:
            base = performance.baseline[metric]
            out.append(
                MonitoringSignal(
                    kind="performance",
                    deployment=deployment,
                    model_name=model_name,
                    model_version=model_version,
                    subject=metric,
                    value=performance.metrics[metric],
                    threshold=base - performance.max_drop,
                    band="degraded",
                    at=at,
                    details={
                        "baseline": base,
                        "drop": performance.drops[metric],
                        "labeled": performance.labeled,
                        "completeness": performance.completeness,
                    },
                )
            )
    if performance is not None:
        out += _label_signals(performance, deployment, model_name, model_version, at)
    return out


def _label_signals(
    performance: WindowPerformance, deployment: str, model_name: str, model_version: str, at: int
) -> list[MonitoringSignal]:
    """The calibration and label-rate signals a window's labeled predictions raised."""
    out: list[MonitoringSignal] = []
    common: dict[str, Any] = {
        "deployment": deployment,
        "model_name": model_name,
        "model_version": model_version,
        "at": at,
    }
    cal = performance.calibration
    if cal and cal.get("raised"):
        details = {k: cal[k] for k in ("labeled", "mean_score", "observed_rate", "deciles")}
        out.append(
            MonitoringSignal(
                kind="calibration",
                subject="ece",
                value=float(cal["ece"]),
                threshold=float(cal["max_ece"]),
                band="degraded",
                details=details,
                **common,
            )
        )
    rate = performance.label_rate
    if rate and rate.get("raised"):
        details = {k: rate[k] for k in ("labeled", "reference_count", "difference", "p_value")}
        out.append(
            MonitoringSignal(
                kind="label_rate",
                subject="label_rate",
                value=float(rate["observed_rate"]),
                threshold=float(rate["reference_rate"]),
                band="drift",
                details=details,
                **common,
            )
        )
    return out


def _drift(
    profile: ReferenceProfile,
    table: pa.Table,
    model_name: str,
    model_version: str,
    limits: DriftThresholds,
    segment: str,
) -> list[FeatureResult]:
    same = pc.and_(
        pc.equal(table.column("model_name"), model_name),
        pc.equal(table.column("model_version"), model_version),
    )
    own = int(pc.sum(pc.fill_null(same, False)).as_py() or 0)
    if own == table.num_rows:
        report = compute_drift(profile, table, thresholds=limits, score_column="score")
        score = report.score
    else:  # inputs on all rows, the score on the rows this version scored
        report = compute_drift(profile, table, thresholds=limits, score_column=None)
        scored = table.filter(pc.fill_null(same, False))
        score = compute_drift(profile, scored, thresholds=limits, score_column="score").score
    return _results(report.features, score, segment)


def _segment_drift(
    now: pa.Table,
    before: pa.Table,
    kinds: Mapping[str, ColumnKind],
    limits: DriftThresholds,
    settings: MonitoringSettings,
    segment: str,
) -> list[FeatureResult]:
    """One segment against the same segment in the preceding window (profiled here): the
    training profile has no per-segment distributions, and a segment compared with all
    training traffic differs by construction (``home=rent`` is 100 % rent)."""
    columns = [*kinds, SCORE]
    if min(now.num_rows, before.num_rows) < settings.min_segment_rows:
        return []  # too few rows to say anything; the run keeps the segment's size
    categorical = {name for name, kind in kinds.items() if kind == "categorical"}
    reference = ReferenceProfile.build(
        before.select(columns).to_pandas(),
        categorical=categorical,
        score_column=SCORE,
        bins=settings.bins,
    )
    report = compute_drift(reference, now, thresholds=limits, score_column=SCORE)
    return _results(report.features, report.score, segment)


def _results(
    features: Sequence[FeatureDrift], score: FeatureDrift | None, segment: str
) -> list[FeatureResult]:
    """The inputs' drift and the score's, tagged with their segment (and the score's kind)."""
    out = [replace(f, segment=segment) for f in features]
    if score is not None:
        out.append(replace(score, kind=SCORE, segment=segment))
    return out


def _largest(values: pa.ChunkedArray, keep: int) -> pa.Array:
    """The ``keep`` most frequent segment values (ties by value)."""
    counts = pc.value_counts(values)
    pairs = sorted(
        zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True),
        key=lambda vc: (-vc[1], str(vc[0])),
    )
    return pa.array([v for v, _ in pairs[:keep]], pa.string())


def _labels(values: pa.ChunkedArray, kept: pa.Array) -> pa.ChunkedArray:
    """Segment values, those outside ``kept`` named :data:`OTHER`."""
    return pc.if_else(pc.is_in(values, kept), values, pa.scalar(OTHER))


def _column_kinds(profile: ReferenceProfile) -> dict[str, ColumnKind]:
    return {
        name: ("categorical" if kind == "categorical" else "numeric")
        for name, kind in profile.kinds().items()
    }
