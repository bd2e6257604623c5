"""The history a backtest replays: the policy's entity rows with point-in-time features, and
when each row's label became known.

The rows are those of the policy's training config (``train.yaml``'s entity query), cut to
``[since, until)`` and joined with their features by ONE
:func:`~cairn.training.build_training_set` call. Features are point in time per row (each row
sees what the feature store knew at its ``event_timestamp``), so slicing the frame by time
later leaks nothing from the future into a simulated past.

A label is known at a time by the :class:`LabelRule` the config and the policy declare: the
config's ``label_available_at`` column, else the policy's ``data_window.label_maturity``, else
the config's ``label_maturity``, else at once (at the row's ``event_timestamp``). A row without
a label is never known. Decisions and training at a simulated time see only the labels known
then; the backtest's performance trajectories use every label (hindsight) and say so.

Example
-------
>>> import pandas as pd
>>> rows = pd.DataFrame({"event_timestamp": pd.to_datetime(["2026-01-01", "2026-01-02"],
...                      utc=True), "y": [1, None]})
>>> rule = LabelRule(maturity=2 * 86_400_000_000)
>>> times = to_times(rows["event_timestamp"])
>>> rule.known_at(rows, times, "y").tolist() == [times[0] + 2 * 86_400_000_000, NEVER]
True
>>> rule.describe()
'a label is known 2d after its event_timestamp'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pandas as pd

from cairn.core.errors import ConfigError, DataError
from cairn.core.timeutil import format_duration, from_micros
from cairn.core.types import Micros
from cairn.retraining.policy import DataWindowSpec, Policy
from cairn.retraining.window import windowed_config
from cairn.training.config import TrainConfig
from cairn.training.training_set import TIME_COLUMN, OfflineFeatures, build_training_set

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["NEVER", "History", "LabelRule", "label_rule", "load_history", "to_times"]

NEVER: Micros = np.iinfo(np.int64).max
"""The time a missing label becomes known: never."""
Indices = npt.NDArray[np.int64]


def to_times(values: pd.Series) -> npt.NDArray[np.int64]:
    """Times as µs since the epoch (UTC); a missing time is :data:`NEVER`."""
    stamps = pd.to_datetime(values, utc=True).to_numpy(dtype="datetime64[us]")
    out = stamps.astype(np.int64)
    out[np.isnat(stamps)] = NEVER
    return out


@dataclass(frozen=True)
class LabelRule:
    """When a row's label is known: at its ``column`` (a time), else ``maturity`` µs after
    its ``event_timestamp`` (0: at once)."""

    column: str | None = None
    maturity: Micros = 0

    def known_at(
        self, frame: pd.DataFrame, times: npt.NDArray[np.int64], label: str
    ) -> npt.NDArray[np.int64]:
        """Per row, when its label is known (µs; :data:`NEVER` without a label)."""
        if self.column is not None:
            if self.column not in frame.columns:
                raise ConfigError(
                    f"label_available_at {self.column!r} is not a column of the entity rows; "
                    f"expected one of {[str(c) for c in frame.columns]}."
                )
            known = to_times(frame[self.column])
        else:
            known = np.where(times == NEVER, NEVER, times + self.maturity)
        return np.where(frame[label].isna().to_numpy(), NEVER, known)

    def describe(self) -> str:
        """One line for the report."""
        if self.column is not None:
            return f"a label is known at its {self.column}"
        if self.maturity:
            return f"a label is known {format_duration(self.maturity)} after its {TIME_COLUMN}"
        return f"a label is known at its {TIME_COLUMN}"


def label_rule(config: TrainConfig, policy: Policy) -> LabelRule:
    """The rule the config and the policy declare (see the module)."""
    if config.label_available_at is not None:
        return LabelRule(column=config.label_available_at)
    return LabelRule(maturity=policy.data_window.label_maturity or config.label_maturity or 0)


@dataclass(frozen=True)
class History:
    """The replayed rows, ordered by time, with their labels and when each was known."""

    frame: pd.DataFrame
    """Entity columns and features, one row per entity row, by ``event_timestamp``."""
    features: list[str]
    label: str
    times: npt.NDArray[np.int64]
    """Each row's ``event_timestamp`` (µs since the epoch, UTC), ascending."""
    labels: npt.NDArray[np.float64]
    """Each row's label (0/1; NaN when missing)."""
    known_at: npt.NDArray[np.int64]
    """When each label was known (:data:`NEVER`: not known)."""
    rule: LabelRule
    digest: str
    """The training set's manifest digest (what the features were built from)."""

    def __len__(self) -> int:
        return len(self.times)

    def rows(self, start: Micros, end: Micros) -> Indices:
        """The positions of the rows with ``start <= event_timestamp < end``."""
        lo, hi = np.searchsorted(self.times, [start, end], side="left")
        return np.arange(lo, hi, dtype=np.int64)

    def known(self, rows: Indices, at: Micros) -> npt.NDArray[np.float64]:
        """The labels of ``rows`` as known at ``at`` (NaN: not known yet)."""
        return np.where(self.known_at[rows] <= at, self.labels[rows], np.nan)


def load_history(
    store: OfflineFeatures,
    config: TrainConfig,
    policy: Policy,
    *,
    since: Micros,
    until: Micros,
    root: Path | None = None,
) -> History:
    """The config's entity rows with ``since <= event_timestamp < until`` and their
    point-in-time features, from one training-set query of ``store``."""
    span = DataWindowSpec.model_construct(lookback=until - since, label_maturity=0)
    query = windowed_config(
        config, policy.model_copy(update={"data_window": span}), at=until, root=root
    )
    data = build_training_set(query, store)
    frame = data.frame
    if frame.empty:
        raise DataError(
            f"{config.source}: no entity rows from {from_micros(since).isoformat()} to "
            f"{from_micros(until).isoformat()}: nothing to replay."
        )
    times = to_times(frame[TIME_COLUMN])
    order = np.argsort(times, kind="stable")
    frame = frame.iloc[order].reset_index(drop=True)
    times = times[order]
    try:
        labels = pd.to_numeric(frame[config.label]).to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError):
        raise DataError(
            f"{config.source}: label {config.label!r} must be 0 or 1; its dtype is "
            f"{frame[config.label].dtype}."
        ) from None
    rule = label_rule(config, policy)
    return History(
        frame=frame,
        features=data.feature_columns,
        label=config.label,
        times=times,
        labels=labels,
        known_at=rule.known_at(frame, times, config.label),
        rule=rule,
        digest=data.manifest.digest,
    )
