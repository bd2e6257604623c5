"""The common out-of-time test window of a run, scored by the candidate and the champion.

The window is the run's own test part (:mod:`cairn.retraining.window`): the latest
``gates.test_share`` of the data window's rows, with their point-in-time features, which the
candidate never fitted on. Both models score exactly these rows through the serving path
(:class:`cairn.app.model_loader.RegistryModelLoader`: the booster, feature order and category
codes a server would use), so the gates compare what each model would have answered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from cairn.core.errors import ConfigError, DataError
from cairn.retraining.window import data_window

if TYPE_CHECKING:
    from cairn.app.project import Project
    from cairn.retraining.policy import Policy
    from cairn.serving.models import ScoringModel
    from cairn.training.config import TrainConfig

__all__ = ["TestWindow", "score", "test_window"]


@dataclass(frozen=True)
class TestWindow:
    """The rows both models are judged on, with each model's scores."""

    labels: npt.NDArray[np.float64]
    candidate: npt.NDArray[np.float64]
    champion: npt.NDArray[np.float64] | None
    groups: npt.NDArray[Any] | None
    info: dict[str, Any] = field(default_factory=dict)
    """Where the rows come from: the data window, the test part's bounds, rows, models."""


def score(model: ScoringModel, frame: pd.DataFrame) -> npt.NDArray[np.float64]:
    """``model``'s scores of the rows of ``frame`` (its feature columns), as served."""
    missing = [f for f in model.features if f not in frame.columns]
    if missing:
        raise DataError(
            f"{model.name}/{model.version} needs {', '.join(missing)}, which the retraining "
            f"window's training set does not have; train the champion and the candidate on "
            f"the same features."
        )
    rows = frame[model.features].astype(object).where(frame[model.features].notna(), None)
    inputs = [{str(k): v for k, v in row.items()} for row in rows.to_dict(orient="records")]
    return np.asarray(model.score(model.matrix(inputs)), dtype=np.float64).reshape(-1)


def test_window(
    project: Project,
    policy: Policy,
    config: TrainConfig,
    *,
    at: int,
    candidate: str,
    champion: str | None,
) -> TestWindow:
    """Build the test part of the run decided at ``at`` (``config`` is the run's windowed
    config) and score it with ``candidate`` and ``champion`` (``name/version`` references;
    None: no champion)."""
    from cairn.app.model_loader import RegistryModelLoader
    from cairn.training import build_training_set
    from cairn.training.label_timing import config_split

    frame = build_training_set(config, project.features).frame
    split, _ = config_split(config, frame)
    test = frame.iloc[split.test].reset_index(drop=True)
    if test.empty:
        window = data_window(policy, at).to_dict()
        raise DataError(
            f"The retraining window {window['start']} to {window['end']} leaves no test rows; "
            f"widen data_window.lookback or gates.test_share."
        )
    loader = RegistryModelLoader(project.tracker, project.registry)

    def load(ref: str) -> ScoringModel:
        name, _, version = ref.partition("/")
        return loader.load(name, version)

    labels = test[config.label].to_numpy(dtype=np.float64)
    mine = score(load(candidate), test)
    theirs = None if champion is None else score(load(champion), test)
    groups = None
    attribute = policy.gates.fairness_attribute
    if attribute is not None:
        if attribute not in test.columns:
            raise ConfigError(
                f"gates.fairness_attribute {attribute!r} is not a column of the training rows; "
                f"expected one of {', '.join(map(str, test.columns))}."
            )
        groups = test[attribute].to_numpy(dtype=object)
    times = pd.to_datetime(test["event_timestamp"], utc=True)
    info = {
        "data_window": data_window(policy, at).to_dict(),
        "test_start": times.min().isoformat(),
        "test_end": times.max().isoformat(),
        "rows": len(test),
        "candidate": candidate,
        "champion": champion,
    }
    return TestWindow(labels, mine, theirs, groups, info)
