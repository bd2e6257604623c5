"""Labels used only once they were known: ``label_available_at`` or ``label_maturity``.

A default flag is known months after the application it belongs to. Training on a row whose
label was not known yet at the end of the fitting period lets the model learn outcomes nobody
had at the time, so its validation looks better than it will be in use. The rule, per part:

- training rows need their label known by the start of the validation part (``cutoff``);
- validation rows (early stopping) need it known by the start of the test part, when there is
  one;
- the reported part needs a known label at all (``label_available_at`` not missing).

With ``label_maturity`` a label is known ``event_timestamp + maturity``. Dropped rows are
counted per part and reported with the run.

Example
-------
>>> import pandas as pd
>>> from cairn.training.split import time_split
>>> frame = pd.DataFrame({"event_timestamp": pd.to_datetime(
...     ["2026-01-01", "2026-01-05", "2026-01-09", "2026-01-10"], utc=True)})
>>> split = time_split(frame["event_timestamp"], 0.5)
>>> kept, timing = known_labels(frame, split, maturity=5 * 86_400_000_000)
>>> kept.train.tolist(), timing.dropped
([0], {'train': 1, 'validation': 0})
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cairn.core.errors import ConfigError, DataError
from cairn.training.split import TimeSplit

if TYPE_CHECKING:
    from cairn.training.config import TrainConfig

TIME_COLUMN = "event_timestamp"


@dataclass(frozen=True)
class LabelTiming:
    """How label availability was decided (``rule``) and the rows dropped per part."""

    rule: str
    dropped: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Rows dropped over all parts."""
        return sum(self.dropped.values())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"rule": self.rule, "dropped": dict(self.dropped), "dropped_rows": self.total}


def known_labels(
    frame: pd.DataFrame,
    split: TimeSplit,
    *,
    available_at: str | None = None,
    maturity: int | None = None,
    where: str = "train config",
) -> tuple[TimeSplit, LabelTiming]:
    """``split`` without the rows whose label was not known in time (see the module doc)."""
    if available_at is None and maturity is None:
        return split, LabelTiming("none: every label is used (no label_available_at or maturity)")
    if available_at is not None:
        if available_at not in frame.columns:
            raise ConfigError(
                f"{where}: label_available_at {available_at!r} is not a column of the entity "
                f"rows; expected one of {[str(c) for c in frame.columns]}."
            )
        try:
            known = pd.to_datetime(frame[available_at], utc=True)
        except (ValueError, TypeError) as exc:
            raise DataError(
                f"{where}: label_available_at column {available_at!r} must hold times; {exc}"
            ) from None
        rule = f"label_available_at: {available_at}"
    else:
        assert maturity is not None
        known = pd.to_datetime(frame[TIME_COLUMN], utc=True) + pd.to_timedelta(maturity, "us")
        rule = f"label_maturity: {maturity // 1_000_000}s after event_timestamp"
    stamps = known.to_numpy(dtype="datetime64[us]")
    present = ~np.isnat(stamps)
    deadlines = {"train": split.cutoff, "validation": split.test_cutoff}
    kept: dict[str, np.ndarray] = {}
    dropped: dict[str, int] = {}
    for part, rows in split.parts().items():
        ok = present[rows]
        deadline = deadlines.get(part)
        if deadline is not None:
            limit = np.datetime64(pd.Timestamp(deadline).tz_convert(None), "us")
            ok = ok & (stamps[rows] <= limit)
        kept[part], dropped[part] = rows[ok], int((~ok).sum())
    for part in ("train", "validation"):
        if len(kept[part]) == 0:
            raise DataError(
                f"{where}: no {part} row has a label known in time ({rule}); "
                f"{dropped[part]} {part} row(s) dropped. Use an earlier split or a shorter "
                f"maturity."
            )
    times = pd.to_datetime(frame[TIME_COLUMN], utc=True)
    out = replace(
        split,
        train=kept["train"],
        validation=kept["validation"],
        test=kept.get("test", split.test),
        train_start=times.iloc[kept["train"]].min().to_pydatetime(),
        train_end=times.iloc[kept["train"]].max().to_pydatetime(),
        validation_start=times.iloc[kept["validation"]].min().to_pydatetime(),
        validation_end=times.iloc[kept["validation"]].max().to_pydatetime(),
    )
    return out, LabelTiming(rule, dropped)


def config_split(config: TrainConfig, frame: pd.DataFrame) -> tuple[TimeSplit, LabelTiming]:
    """The parts ``config`` declares over ``frame`` (its training set), without the rows whose
    label was not known in time: what training fits and reports on, and what a retraining's
    gates and backtests read as the same parts."""
    from cairn.training.split import split_rows

    split = split_rows(config.parts, frame[TIME_COLUMN])
    return known_labels(
        frame,
        split,
        available_at=config.label_available_at,
        maturity=config.label_maturity,
        where=config.source,
    )
