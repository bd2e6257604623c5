"""The time-based train/validation split: the latest entity rows are held out.

Random splits let a model learn from the future of the rows it is judged on; a credit model is
used on applications that come after its training data, so it is validated the same way.

Example
-------
>>> import pandas as pd
>>> times = pd.Series(pd.to_datetime(["2026-01-03", "2026-01-01", "2026-01-02", "2026-01-04",
...                                   "2026-01-05"], utc=True))
>>> s = time_split(times, 0.4)
>>> s.train.tolist(), s.validation.tolist(), s.cutoff.date().isoformat()
([0, 1, 2], [3, 4], '2026-01-04')
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from cairn.core.errors import DataError

Indices = npt.NDArray[np.int64]


@dataclass(frozen=True)
class TimeSplit:
    """Row positions of each part (in the training set's order) and the cutoff time:
    validation rows have ``event_timestamp >= cutoff``, training rows are earlier."""

    train: Indices
    validation: Indices
    cutoff: datetime
    train_start: datetime
    train_end: datetime
    validation_start: datetime
    validation_end: datetime

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (row counts and times)."""
        return {
            "train_rows": len(self.train),
            "validation_rows": len(self.validation),
            "cutoff": self.cutoff.isoformat(),
            "train_start": self.train_start.isoformat(),
            "train_end": self.train_end.isoformat(),
            "validation_start": self.validation_start.isoformat(),
            "validation_end": self.validation_end.isoformat(),
        }


def time_split(times: pd.Series, fraction: float) -> TimeSplit:
    """Hold out the latest ``fraction`` of rows by time.

    Rows at the cutoff time all go to validation, so no time is on both sides (the validation
    share can be slightly above ``fraction`` when many rows share the cutoff time).
    """
    if not 0 < fraction < 1:
        raise DataError(f"validation fraction must be in (0, 1); got {fraction!r}.")
    n = len(times)
    if n < 2:
        raise DataError(f"A time split needs at least 2 entity rows; got {n}.")
    stamps = pd.to_datetime(times, utc=True)
    if stamps.isna().any():
        raise DataError(
            f"event_timestamp has {int(stamps.isna().sum())} missing value(s); every training "
            f"row needs a time for the time-based split."
        )
    values = stamps.to_numpy(dtype="datetime64[us]")
    ordered = np.sort(values, kind="stable")
    held = max(1, math.ceil(n * fraction))
    cutoff = ordered[n - held]
    is_valid = values >= cutoff
    train = np.flatnonzero(~is_valid).astype(np.int64)
    validation = np.flatnonzero(is_valid).astype(np.int64)
    if len(train) == 0:
        raise DataError(
            f"The time split leaves no training rows: the latest {held} of {n} rows share "
            f"their time with every earlier row (all at {_ts(cutoff).isoformat()}); use entity "
            f"rows spread over time or a smaller validation_fraction."
        )
    return TimeSplit(
        train=train,
        validation=validation,
        cutoff=_ts(cutoff),
        train_start=_ts(values[train].min()),
        train_end=_ts(values[train].max()),
        validation_start=_ts(values[validation].min()),
        validation_end=_ts(values[validation].max()),
    )


def _ts(value: Any) -> datetime:
    stamp: datetime = pd.Timestamp(value).tz_localize("UTC").to_pydatetime()
    return stamp
