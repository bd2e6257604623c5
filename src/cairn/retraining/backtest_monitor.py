"""One monitoring run on a backtest's simulated clock: a window of history rows played as the
traffic of the model in force, judged as ``cairn monitor run`` judges it.

The computations are monitoring's own: :func:`~cairn.monitoring.compute_drift` of every input
and of the score against the model's reference profile with the project's thresholds
(:func:`~cairn.monitoring.runs.thresholds_of` of the ``monitoring`` settings), the realized
performance of the window moved back by the deployment's label maturity with
:func:`~cairn.monitoring.performance.judge` (completeness and allowed drop from the settings;
labels as known at the run's time), the calibration and label-rate checks of a judged window,
and :func:`~cairn.monitoring.runs.signals_of` for the signals. The run becomes the
:class:`~cairn.retraining.inputs.Observation` the decision engine reads.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from cairn.core.config import MonitoringSettings
from cairn.core.deployments import Deployment
from cairn.core.types import Micros
from cairn.monitoring.calibration_signal import MAX_ECE, MIN_LABELED, check_calibration
from cairn.monitoring.drift import SCORE, compute_drift
from cairn.monitoring.label_rate import check_label_rate, reference_label
from cairn.monitoring.performance import WindowPerformance, judge
from cairn.monitoring.results import ALL
from cairn.monitoring.runs import signals_of, thresholds_of
from cairn.retraining.backtest_data import History, Indices
from cairn.retraining.backtest_model import SimModel
from cairn.retraining.inputs import Observation

__all__ = ["Watch", "observe"]


@dataclass(frozen=True)
class Watch:
    """What one simulated monitoring run saw, and the observation it makes."""

    observation: Observation
    rows: int
    performance: WindowPerformance

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary: rows, signals, the judged performance."""
        perf = self.performance
        return {
            "run": self.observation.run_id,
            "rows": self.rows,
            "signals": [
                f"{s.kind}:{s.subject}" + (f"={s.value:.3f}" if s.kind != "performance" else "")
                for s in self.observation.signals
            ],
            "performance": perf.status,
            "labeled": perf.labeled,
            "metrics": dict(perf.metrics),
            "drops": dict(perf.drops),
        }


def observe(
    model: SimModel,
    history: History,
    *,
    rows: Indices,
    judged: Indices,
    at: Micros,
    run_id: int,
    deployment: Deployment,
    model_name: str,
    settings: MonitoringSettings,
) -> Watch | None:
    """Monitor ``model`` at ``at`` over the window's ``rows`` (the traffic it scored) and the
    ``judged`` rows of the window moved back by the label maturity; None when it scored no
    row of the window (an empty run: no observation, as ``cairn monitor`` stores none)."""
    if len(rows) == 0:
        return None
    current = history.frame.iloc[rows][model.inputs.features].copy()
    current[SCORE] = model.score(history, rows)
    report = compute_drift(
        model.profile, current, thresholds=thresholds_of(settings), score_column=SCORE
    )
    features = [replace(f, segment=ALL) for f in report.features]
    if report.score is not None:
        features.append(replace(report.score, kind=SCORE, segment=ALL))
    scores = model.score(history, judged)
    labels = history.known(judged, at)
    performance = judge(
        scores,
        labels,
        threshold=deployment.threshold,
        baseline=model.baseline,
        min_completeness=settings.completeness,
        max_drop=settings.performance_drop,
    )
    performance = replace(
        performance, decision=deployment.decision.positive, maturity=deployment.label.maturity
    )
    if performance.status == "judged":
        rate, count = reference_label(model.profile.label)
        performance = replace(
            performance,
            calibration=check_calibration(
                scores, labels, max_ece=MAX_ECE, min_labeled=MIN_LABELED
            ).to_dict(),
            label_rate=check_label_rate(
                labels[~np.isnan(scores)], reference_rate=rate, reference_count=count,
                min_labeled=MIN_LABELED,
            ).to_dict(),
        )  # fmt: skip
    signals = signals_of(
        features, performance, deployment.name, model_name, model.name, at, settings
    )
    judged_ok = performance.status == "judged"
    observation = Observation(
        run_id=run_id,
        deployment=deployment.name,
        at=at,
        signals=tuple(signals),
        labeled=performance.labeled if judged_ok else 0,
        drops=dict(performance.drops) if judged_ok else {},
    )
    return Watch(observation, len(rows), performance)
