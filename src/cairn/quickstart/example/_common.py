"""Shared helpers of the example generators: the time grid and Arrow column builders.

Generators work on int64 microseconds since the Unix epoch (UTC), Cairn's clock unit, and turn
them into tz-aware ``timestamp[us, tz=UTC]`` columns only when a table is built.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt
import pyarrow as pa

Micros = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

SECOND = 1_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR

PERIOD_START = datetime(2025, 1, 1, tzinfo=UTC)
"""Applications are spread over [PERIOD_START, PERIOD_END)."""
PERIOD_END = datetime(2026, 7, 1, tzinfo=UTC)

TIMESTAMP = pa.timestamp("us", tz="UTC")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)


def to_micros(ts: datetime) -> int:
    """Microseconds since the epoch of a tz-aware datetime."""
    return (ts - _EPOCH) // _ONE_US


def from_micros(us: int) -> datetime:
    """The tz-aware UTC datetime of ``us`` microseconds since the epoch."""
    return _EPOCH + us * _ONE_US


def ts_column(us: npt.NDArray[np.int64]) -> pa.Array:
    """A ``timestamp[us, tz=UTC]`` Arrow column from epoch microseconds."""
    return pa.array(np.asarray(us, dtype=np.int64), type=pa.int64()).cast(TIMESTAMP)


def str_column(values: npt.NDArray[np.object_]) -> pa.Array:
    """A string Arrow column; None and NaN become nulls."""
    return pa.array(values, type=pa.string(), from_pandas=True)


def uniform_us(rng: np.random.Generator, low: int, high: int, size: int) -> Micros:
    """Random durations in ``[low, high)`` microseconds, whole seconds."""
    return rng.integers(low // SECOND, high // SECOND, size=size, dtype=np.int64) * SECOND
