"""Realized performance of a window of predictions, as labels arrive (DESIGN §3.4).

Outcomes join a window's primary predictions by ``prediction_id``; an outcome without one
joins by entity and time: it labels the deployment's latest primary prediction for the same
entity (the ``entity`` JSON text, written with sorted keys on both sides) at or before its
``event_time`` — the decision in force when the event happened (a DuckDB ASOF join). The
latest observation of a prediction wins; ``labels_as_of`` counts only outcomes observed by
then (default: every outcome logged so far, which is what a run knows when it runs).

A window is judged only once its **completeness** (labeled / predictions) reaches
``min_completeness`` (default 0.8): before that it is ``immature`` and only the completeness is
reported, because the labels that arrive first (early defaults) are not a fair sample. When the
deployment declares a label maturity (``label.maturity`` in ``deployments.yaml``: how long its
outcomes take), performance is judged on the predictions at least that old: the monitoring
window moved back by the maturity, so each run judges the latest window whose labels can be in.
A judged window gets the realized AUC, KS (max |TPR − FPR|), and precision and recall of the
deployment's positive decision (``score >= threshold``: decline for credit, follow_up for an
outreach model), with the same definitions as training's validation metrics; a metric that fell
more than ``max_drop`` below the training baseline is ``degraded``. AUC and KS are judged by
default; precision and recall are reported but move with the rate of positive labels (for
credit the default rate, which changes with the economy without the model getting worse).

Example
-------
>>> import numpy as np
>>> m = realized_metrics(np.array([0, 0, 1, 1]), np.array([0.1, 0.6, 0.4, 0.9]), 0.5)
>>> m["auc"], m["ks"], m["precision"], m["recall"]
(0.75, 0.5, 0.5, 0.5)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

import duckdb
import numpy as np
import numpy.typing as npt

from cairn.core.errors import ConfigError
from cairn.core.timeutil import format_duration, from_micros
from cairn.core.types import Micros
from cairn.monitoring.calibration_signal import MAX_ECE, MIN_LABELED, check_calibration
from cairn.monitoring.label_rate import check_label_rate
from cairn.monitoring.window import PREDICTIONS, Window, group_rows, log_source, primary_rows
from cairn.training.metrics import evaluate

PerformanceStatus = Literal["judged", "immature", "empty", "error"]
METRICS = ("auc", "ks", "precision", "recall")
"""The realized metrics, compared with the training run's ``valid_<metric>``."""
JUDGED = ("auc", "ks")
"""Metrics whose drop is a signal by default."""


@dataclass(frozen=True)
class WindowPerformance:
    """How the model did on one window, as far as labels tell by ``as_of``.

    ``status``: ``judged`` (metrics computed), ``immature`` (completeness below
    ``min_completeness``), ``empty`` (no predictions) or ``error`` (``error`` says why, e.g.
    one class only). ``drops`` is baseline minus realized per metric with a baseline;
    ``degraded`` lists the judged metrics whose drop exceeds ``max_drop``. ``decision`` names the
    positive decision precision and recall are of (None: not given); ``maturity`` (µs) is how
    far the judged predictions' window (``start``, ``end``) lags the run's window.
    """

    status: PerformanceStatus
    predictions: int
    labeled: int
    completeness: float
    min_completeness: float
    threshold: float
    metrics: dict[str, float] = field(default_factory=dict)
    positive_rate: float | None = None
    baseline: dict[str, float] = field(default_factory=dict)
    drops: dict[str, float] = field(default_factory=dict)
    max_drop: float = 0.05
    degraded: list[str] = field(default_factory=list)
    error: str | None = None
    decision: str | None = None
    maturity: int = 0
    start: Micros | None = None
    end: Micros | None = None
    calibration: dict[str, Any] | None = None
    """The calibration check of the judged predictions (``CalibrationCheck.to_dict()``; None:
    not checked, e.g. a run stored before it existed)."""
    label_rate: dict[str, Any] | None = None
    """The label-rate check of the same predictions (``LabelRateCheck.to_dict()``)."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WindowPerformance:
        """The value :meth:`to_dict` wrote."""
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def describe(self) -> str:
        """One line for people."""
        share = f"{self.labeled:,}/{self.predictions:,} labeled ({self.completeness:.0%})"
        if self.maturity and self.start is not None and self.end is not None:
            lag = format_duration(self.maturity)
            span = (
                f"{from_micros(self.start):%Y-%m-%d %H:%M}, {from_micros(self.end):%Y-%m-%d %H:%M}"
            )
            share += f" of predictions in [{span}) (labels mature after {lag})"
        if self.status == "empty":
            if self.maturity:
                return f"no predictions at least {format_duration(self.maturity)} old in the window"
            return "no predictions in the window"
        if self.status == "immature":
            return f"immature: {share}, judged from {self.min_completeness:.0%}"
        if self.status == "error":
            return f"not judged: {self.error} ({share})"
        shown = ", ".join(f"{k} {v:.3f}" for k, v in self.metrics.items())
        base = ", ".join(f"{k} {v:.3f}" for k, v in self.baseline.items() if k in JUDGED)
        worse = f"; degraded: {', '.join(self.degraded)}" if self.degraded else ""
        return f"{shown} on {share}" + (f" (training: {base})" if base else "") + worse


def realized_metrics(
    labels: npt.NDArray[Any], scores: npt.NDArray[Any], threshold: float
) -> dict[str, float]:
    """AUC (ties count one half), KS, and precision/recall of ``scores >= threshold``: the
    training run's :func:`~cairn.training.metrics.evaluate`, so the same definitions.

    ``labels`` must hold both classes (0 and 1).
    """
    positive = np.asarray(labels, dtype=np.float64) >= 0.5
    metrics = evaluate(positive.astype(np.int64), np.asarray(scores, dtype=np.float64), threshold)
    return {m: metrics[m] for m in METRICS}


def labeled_window(
    con: duckdb.DuckDBPyConnection,
    window: Window,
    *,
    labels_as_of: Micros | None = None,
    relation: str = PREDICTIONS,
    outcomes: str = "outcomes",
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Scores and labels (NaN where none arrived by ``labels_as_of``) of the window's
    predictions (its group: primary rows, or one version, arm or the shadows), outcomes joined
    by prediction id, else by entity + event time (the primary decision in force)."""
    source, params = log_source(relation)
    out_source, out_params = log_source(outcomes)
    primary = "" if window.shadow else primary_rows(con, source, params)
    group, group_args = group_rows(con, source, params, window)
    seen = [] if labels_as_of is None else [from_micros(labels_as_of)]
    sql = f"""
        WITH o AS (
            SELECT * FROM {out_source}{" WHERE observed_at <= ?" if seen else ""}
        ), p AS (
            SELECT * FROM {source}
            WHERE deployment = ?{primary}
        ), by_id AS (
            SELECT prediction_id, arg_max(label, observed_at) AS label
            FROM o WHERE prediction_id IS NOT NULL GROUP BY prediction_id
        ), by_entity AS (
            SELECT p.prediction_id, arg_max(e.label, e.observed_at) AS label
            FROM (SELECT * FROM o WHERE prediction_id IS NULL
                  AND (deployment IS NULL OR deployment = ?)) e
            ASOF JOIN p ON e.entity = p.entity AND e.event_time >= p.time
            GROUP BY p.prediction_id
        )
        SELECT coalesce(CAST(p.score AS DOUBLE), 'NaN'::DOUBLE) AS score,
               coalesce(CAST(coalesce(by_id.label, by_entity.label) AS DOUBLE), 'NaN'::DOUBLE)
                   AS label
        FROM p LEFT JOIN by_id USING (prediction_id) LEFT JOIN by_entity USING (prediction_id)
        WHERE p.time >= ? AND p.time < ?{group}
    """
    args = [
        *out_params,
        *seen,
        *params,
        window.deployment,
        window.deployment,
        from_micros(window.start),
        from_micros(window.end),
        *group_args,
    ]
    got = con.execute(sql, args).fetchnumpy()
    scores = np.asarray(got["score"], dtype=np.float64)
    labels = np.asarray(got["label"], dtype=np.float64)
    return scores, labels


def window_performance(
    con: duckdb.DuckDBPyConnection,
    window: Window,
    *,
    threshold: float,
    baseline: Mapping[str, float] | None = None,
    min_completeness: float = 0.8,
    max_drop: float = 0.05,
    judged: Sequence[str] = JUDGED,
    labels_as_of: Micros | None = None,
    relation: str = PREDICTIONS,
    outcomes: str = "outcomes",
    decision: str | None = None,
    maturity: Micros = 0,
    reference_rate: float | None = None,
    reference_count: int | None = None,
    max_ece: float = MAX_ECE,
    min_labeled: int = MIN_LABELED,
) -> WindowPerformance:
    """The window's realized performance against ``baseline`` (metric -> training value).

    ``decision`` names the positive decision (``score >= threshold``); with a ``maturity``
    (µs: the deployment's label maturity) the predictions judged are those of the window moved
    back by it. The same labeled predictions are checked for calibration (ECE above
    ``max_ece``) and for their label rate against the training reference's
    (``reference_rate`` over ``reference_count`` labels), each from ``min_labeled`` labels and
    only once the window is judged (completeness reached: the labels that arrive first are
    not a fair sample) (:mod:`cairn.monitoring.calibration_signal`,
    :mod:`cairn.monitoring.label_rate`).
    """
    if maturity < 0:
        raise ConfigError(f"The label maturity must not be negative; got {maturity} µs.")
    judged_window = replace(window, start=window.start - maturity, end=window.end - maturity)
    scores, labels = labeled_window(
        con, judged_window, labels_as_of=labels_as_of, relation=relation, outcomes=outcomes
    )
    result = judge(
        scores,
        labels,
        threshold=threshold,
        baseline=baseline,
        min_completeness=min_completeness,
        max_drop=max_drop,
        judged=judged,
    )
    if result.status != "judged":  # labels that arrive first are a biased sample (defaults
        # are often known before repayments): calibration and label rate wait, as metrics do
        return replace(
            result,
            decision=decision,
            maturity=maturity,
            start=judged_window.start,
            end=judged_window.end,
        )
    calibration = check_calibration(scores, labels, max_ece=max_ece, min_labeled=min_labeled)
    label_rate = check_label_rate(
        labels[~np.isnan(scores)],
        reference_rate=reference_rate,
        reference_count=reference_count,
        min_labeled=min_labeled,
    )
    return replace(
        result,
        decision=decision,
        maturity=maturity,
        start=judged_window.start,
        end=judged_window.end,
        calibration=calibration.to_dict(),
        label_rate=label_rate.to_dict(),
    )


def judge(
    scores: npt.NDArray[np.float64],
    labels: npt.NDArray[np.float64],
    *,
    threshold: float,
    baseline: Mapping[str, float] | None = None,
    min_completeness: float = 0.8,
    max_drop: float = 0.05,
    judged: Sequence[str] = JUDGED,
) -> WindowPerformance:
    """Judge scores against labels (NaN: not labeled yet); see the module docstring.

    Example
    -------
    >>> import numpy as np
    >>> s, y = np.array([0.1, 0.6, 0.4, 0.9]), np.array([0, 0, 1, np.nan])
    >>> judge(s, y, threshold=0.5).describe()
    'immature: 3/4 labeled (75%), judged from 80%'
    >>> judge(s, y, threshold=0.5, min_completeness=0.5, baseline={"auc": 0.9}).degraded
    ['auc']
    """
    has = ~np.isnan(labels) & ~np.isnan(scores)
    n, k = len(scores), int(has.sum())
    base = {m: float(v) for m, v in (baseline or {}).items() if m in METRICS}
    common: dict[str, Any] = {
        "predictions": n,
        "labeled": k,
        "completeness": k / n if n else 0.0,
        "min_completeness": min_completeness,
        "threshold": threshold,
        "baseline": base,
        "max_drop": max_drop,
    }
    if n == 0:
        return WindowPerformance("empty", **common)
    if k / n < min_completeness:
        return WindowPerformance("immature", **common)
    y, s = labels[has], scores[has]
    odd = sorted({float(v) for v in np.unique(y)} - {0.0, 1.0})
    if odd:
        return WindowPerformance("error", **common, error=f"labels must be 0 or 1; got {odd[:3]}")
    rate = float(y.mean())
    if rate in (0.0, 1.0):
        return WindowPerformance(
            "error",
            **common,
            positive_rate=rate,
            error=f"AUC and KS need both classes; every label is {int(rate)}",
        )
    metrics = realized_metrics(y, s, threshold)
    drops = {m: base[m] - metrics[m] for m in METRICS if m in base}
    degraded = [m for m in judged if drops.get(m, 0.0) > max_drop]
    return WindowPerformance(
        "judged", **common, metrics=metrics, positive_rate=rate, drops=drops, degraded=degraded
    )


def baseline_of(run_metrics: Mapping[str, float], prefix: str = "valid_") -> dict[str, float]:
    """The training baseline from a run's metrics (``valid_auc`` -> ``auc``...).

    Example
    -------
    >>> baseline_of({"valid_auc": 0.83, "train_auc": 0.9, "valid_ks": 0.5})
    {'auc': 0.83, 'ks': 0.5}
    """
    return {m: float(run_metrics[prefix + m]) for m in METRICS if prefix + m in run_metrics}
