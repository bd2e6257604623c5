"""A model trained on a backtest's simulated clock: in memory, on the data known at its time.

:func:`fit_at` trains what ``cairn retrain run`` would train at ``at``, with training's own
pieces and nothing logged: the policy's data window at ``at``
(:func:`~cairn.retraining.window.data_window`, rows whose label was known by then), the split
:func:`~cairn.retraining.window.windowed_config` gives a run (the latest ``gates.test_share`` is
the common out-of-time test part), training's label timing
(:func:`~cairn.training.known_labels`), :class:`~cairn.training.FeatureFrame`,
:func:`~cairn.training.fit_model` with the config's model and seed, the validation metrics as
the performance baseline and the reference profile monitoring compares traffic with, built as
training builds it. No MLflow run, no registry version, no file.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from cairn.core.errors import DataError
from cairn.core.timeutil import from_micros
from cairn.core.types import Micros
from cairn.monitoring.performance import baseline_of
from cairn.profiles import ReferenceProfile
from cairn.retraining.backtest_data import History, Indices
from cairn.retraining.policy import Policy
from cairn.retraining.window import DataWindow, data_window, windowed_config
from cairn.training import (
    FeatureFrame,
    FittedModel,
    TrainConfig,
    evaluate,
    fit_model,
)
from cairn.training.label_timing import config_split
from cairn.training.trainer import training_reference

__all__ = ["MIN_ROWS", "Candidate", "SimModel", "fit_at"]

MIN_ROWS = 50
"""The fewest labeled rows a simulated run trains on (fewer: the run fails, as it would)."""


@dataclass(frozen=True)
class SimModel:
    """A model of the backtest: fitted in memory at ``trained_at``."""

    name: str
    """Its training day (``2025-09-29``): how the report names it."""
    trained_at: Micros
    inputs: FeatureFrame
    fitted: FittedModel
    profile: ReferenceProfile
    """The reference profile monitoring compares its traffic with."""
    baseline: dict[str, float]
    """Its validation metrics: the performance baseline (``auc``, ``ks``...)."""
    data: DataWindow
    rows: dict[str, int]
    """Rows per part: train, validation, test."""

    def score(self, history: History, rows: Indices) -> npt.NDArray[np.float64]:
        """Its scores of history rows."""
        if len(rows) == 0:
            return np.zeros(0, dtype=np.float64)
        return self.fitted.predict(self.inputs.transform(history.frame.iloc[rows]))

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready summary."""
        return {
            "name": self.name,
            "trained_at": from_micros(self.trained_at).isoformat(),
            "data_window": self.data.to_dict(),
            "rows": dict(self.rows),
            "baseline": dict(self.baseline),
        }


@dataclass(frozen=True)
class Candidate:
    """A model trained at a time, and the rows of its common out-of-time test part."""

    model: SimModel
    rows: Indices
    """History positions of its data window's rows with a label known at its time."""
    test: Indices
    """History positions of the test part (labels known at its time)."""


def fit_at(history: History, config: TrainConfig, policy: Policy, at: Micros) -> Candidate:
    """Train the model a run decided at ``at`` would train (see the module); a
    :class:`DataError` when the data known then cannot train one."""
    window = data_window(policy, at)
    rows = history.rows(window.start, window.end)
    rows = rows[history.known_at[rows] <= at]
    day = from_micros(at).date().isoformat()
    if len(rows) < MIN_ROWS:
        raise DataError(
            f"only {len(rows)} rows with a known label in the data window "
            f"[{from_micros(window.start):%Y-%m-%d}, {from_micros(window.end):%Y-%m-%d}) on "
            f"{day} (at least {MIN_ROWS} are needed to train)"
        )
    run = windowed_config(config, policy, at=at)
    frame = history.frame.iloc[rows].reset_index(drop=True)
    split, _ = config_split(run, frame)
    parts = {name: frame.iloc[idx] for name, idx in split.parts().items()}
    if "test" not in parts:
        raise DataError(f"the data window on {day} leaves no test rows for the gates")
    inputs = FeatureFrame.fit(parts["train"], history.features)
    X = {name: inputs.transform(part) for name, part in parts.items()}
    y = {name: part[config.label].to_numpy(dtype=np.int64) for name, part in parts.items()}
    for name, labels in y.items():
        if len(np.unique(labels)) < 2:
            raise DataError(f"the {name} rows of the data window on {day} hold one class only")
    fitted = fit_model(
        config.model,
        X["train"],
        y["train"],
        X["validation"],
        y["validation"],
        seed=config.seed,
        where=run.source,
    )
    scores = {name: fitted.predict(part) for name, part in X.items()}
    valid = evaluate(y["validation"], scores["validation"], config.threshold)
    model = SimModel(
        name=day,
        trained_at=at,
        inputs=inputs,
        fitted=fitted,
        profile=ReferenceProfile.from_dict(training_reference(config, inputs, X, scores, y)),
        baseline=baseline_of({f"valid_{k}": v for k, v in valid.items()}),
        data=window,
        rows={name: len(part) for name, part in parts.items()},
    )
    return Candidate(model, rows, rows[split.test])
