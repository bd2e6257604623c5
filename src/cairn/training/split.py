"""Time-ordered splits: train (fit), validation (early stopping) and test (reported metrics).

Random splits let a model learn from the future of the rows it is judged on; a credit model is
used on applications that come after its training data, so it is validated and tested the same
way: the latest rows are the test part, the ones before them validate, the rest train. A
timestamp is never on two sides, so every training row is earlier than every validation row,
and every validation row earlier than every test row.

Example
-------
>>> import pandas as pd
>>> times = pd.Series(pd.to_datetime(["2026-01-03", "2026-01-01", "2026-01-02", "2026-01-04",
...                                   "2026-01-05"], utc=True))
>>> s = time_split(times, 0.4)
>>> s.train.tolist(), s.validation.tolist(), s.cutoff.date().isoformat()
([0, 1, 2], [3, 4], '2026-01-04')
>>> s = time_split(times, 0.2, test=0.2)
>>> s.train.tolist(), s.validation.tolist(), s.test.tolist(), s.reported
([0, 1, 2], [3], [4], 'test')
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from cairn.core.errors import DataError
from cairn.training.config import SplitSpec

Indices = npt.NDArray[np.int64]
_NONE: Indices = np.zeros(0, dtype=np.int64)


@dataclass(frozen=True)
class TimeSplit:
    """Row positions of each part (in the training set's order) and the cutoff times:
    validation rows have ``cutoff <= event_timestamp < test_cutoff``, test rows
    ``event_timestamp >= test_cutoff``, training rows are earlier than ``cutoff``.

    Without a test part (``test`` empty, ``test_cutoff`` None) the reported metrics are the
    validation rows' (:attr:`reported`)."""

    train: Indices
    validation: Indices
    cutoff: datetime
    train_start: datetime
    train_end: datetime
    validation_start: datetime
    validation_end: datetime
    test: Indices = field(default_factory=lambda: _NONE)
    test_cutoff: datetime | None = None

    @property
    def reported(self) -> str:
        """The part whose metrics are reported: ``test``, or ``validation`` without one."""
        return "test" if len(self.test) else "validation"

    def parts(self) -> dict[str, Indices]:
        """``{"train": ..., "validation": ..., "test": ...}`` (test only when there is one)."""
        out = {"train": self.train, "validation": self.validation}
        if len(self.test):
            out["test"] = self.test
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (row counts and times)."""
        out: dict[str, Any] = {
            "train_rows": len(self.train),
            "validation_rows": len(self.validation),
            "cutoff": self.cutoff.isoformat(),
            "train_start": self.train_start.isoformat(),
            "train_end": self.train_end.isoformat(),
            "validation_start": self.validation_start.isoformat(),
            "validation_end": self.validation_end.isoformat(),
            "reported": self.reported,
        }
        if self.test_cutoff is not None:
            out["test_rows"] = len(self.test)
            out["test_cutoff"] = self.test_cutoff.isoformat()
        return out


def time_split(times: pd.Series, fraction: float, *, test: float = 0.0) -> TimeSplit:
    """Hold out the latest ``test`` share of rows as the test part and the ``fraction`` before
    them as the validation part (``test=0``: validation only, the old two-way split).

    Rows at a cutoff time all go to the later part, so no time is on both sides (a held-out
    share can be slightly above its fraction when many rows share the cutoff time).
    """
    if not 0 < fraction < 1:
        raise DataError(f"validation fraction must be in (0, 1); got {fraction!r}.")
    if not 0 <= test < 1 or fraction + test >= 1:
        raise DataError(
            f"test fraction must be in [0, 1) and leave rows to train (validation + test < 1); "
            f"got validation {fraction!r}, test {test!r}."
        )
    values = _stamps(times, 3 if test else 2)
    n = len(values)
    ordered = np.sort(values, kind="stable")
    held_test = max(1, math.ceil(n * test)) if test else 0
    held = max(1, math.ceil(n * fraction))
    test_cut = ordered[n - held_test] if test else None
    cut = ordered[max(n - held_test - held, 0)]
    return _build(values, cut, test_cut)


def split_rows(spec: SplitSpec, times: pd.Series) -> TimeSplit:
    """The split a config declares (``TrainConfig.parts``): by shares or at cut-off times."""
    if spec.validation_from is not None:
        test_from = None if spec.test_from is None else pd.Timestamp(spec.test_from)
        return cutoff_split(times, pd.Timestamp(spec.validation_from), test_from)
    return time_split(times, spec.validation, test=spec.test)


def cutoff_split(
    times: pd.Series, validation_from: datetime, test_from: datetime | None = None
) -> TimeSplit:
    """Split at explicit times: train before ``validation_from``, validation from it (until
    ``test_from``), test from ``test_from``."""
    values = _stamps(times, 3 if test_from is not None else 2)
    cut = _instant(validation_from)
    test_cut = None if test_from is None else _instant(test_from)
    if test_cut is not None and test_cut <= cut:
        raise DataError(
            f"split.test_from must be after split.validation_from; got "
            f"{_ts(test_cut).isoformat()} <= {_ts(cut).isoformat()}."
        )
    return _build(values, cut, test_cut)


def _build(values: npt.NDArray[Any], cut: Any, test_cut: Any | None) -> TimeSplit:
    in_test = values >= test_cut if test_cut is not None else np.zeros(len(values), dtype=bool)
    in_valid = (values >= cut) & ~in_test
    train = np.flatnonzero(~in_valid & ~in_test).astype(np.int64)
    validation = np.flatnonzero(in_valid).astype(np.int64)
    test = np.flatnonzero(in_test).astype(np.int64)
    for part, rows in (("training", train), ("validation", validation)):
        if len(rows) == 0:
            raise DataError(
                f"The time split leaves no {part} rows ({len(values)} rows from "
                f"{_ts(values.min()).isoformat()} to {_ts(values.max()).isoformat()}, "
                f"validation from {_ts(cut).isoformat()}); use entity rows spread over time, "
                f"smaller held-out fractions or other cut-off times."
            )
    if test_cut is not None and len(test) == 0:
        raise DataError(
            f"The time split leaves no test rows: none at or after {_ts(test_cut).isoformat()} "
            f"(the latest row is at {_ts(values.max()).isoformat()})."
        )
    return TimeSplit(
        train=train,
        validation=validation,
        cutoff=_ts(cut),
        train_start=_ts(values[train].min()),
        train_end=_ts(values[train].max()),
        validation_start=_ts(values[validation].min()),
        validation_end=_ts(values[validation].max()),
        test=test,
        test_cutoff=None if test_cut is None else _ts(test_cut),
    )


def _stamps(times: pd.Series, parts: int) -> npt.NDArray[Any]:
    n = len(times)
    if n < parts:
        raise DataError(
            f"A time split into {parts} parts needs at least {parts} entity rows; got {n}."
        )
    stamps = pd.to_datetime(times, utc=True)
    if stamps.isna().any():
        raise DataError(
            f"event_timestamp has {int(stamps.isna().sum())} missing value(s); every training "
            f"row needs a time for the time-based split."
        )
    return stamps.to_numpy(dtype="datetime64[us]")


def _instant(value: datetime | str) -> Any:
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return np.datetime64(stamp.tz_localize(None).to_pydatetime(), "us")


def _ts(value: Any) -> datetime:
    stamp: datetime = pd.Timestamp(value).tz_localize("UTC").to_pydatetime()
    return stamp
