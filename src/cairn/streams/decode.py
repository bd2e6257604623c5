"""Events -> typed rows, a micro-batch at a time, column by column.

:meth:`RowBuilder.row <cairn.streams.events.RowBuilder.row>` types one event: a call, a dict
and a dtype dispatch per event and column, which was a sixth of a batch's time. Almost every
event of a real stream is plain: an integer event time and values that already have their
column's type. :func:`decode` gathers each column of the batch with one list comprehension,
checks the types of a whole column at once (``set(map(type, column))``) and converts it in
bulk; only the events with a value outside those plain types (ISO-8601 times, floats in an
integer column, a column whose dtype is not fixed yet, anything malformed) go through
``RowBuilder.row``, one by one and in their order, so the dead-letter reasons, the dtypes fixed
on first sight and the typed values are exactly what the per-event path gives.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cairn.core.types import Dtype
from cairn.streams.events import BadEvent, RowBuilder

_PER_UNIT = {"s": 1_000_000, "ms": 1_000, "us": 1}
_NONE = type(None)
_PLAIN: dict[Dtype | None, frozenset[type]] = {
    Dtype.FLOAT64: frozenset({float, int, _NONE}),
    Dtype.INT64: frozenset({int, _NONE}),
    Dtype.STRING: frozenset({str, int, _NONE}),
    Dtype.BOOL: frozenset({bool, _NONE}),
    Dtype.TIMESTAMP: frozenset({int, _NONE}),
    None: frozenset({_NONE}),  # an open dtype: only nulls can be typed without fixing it
}
"""Per dtype: the value types :func:`decode` types in bulk (``bool`` is not ``int`` here, as
in ``RowBuilder.row``); any other value sends its event through ``RowBuilder.row``."""


@dataclass
class Rows:
    """Typed rows of a batch as columns: ``times[i]`` (event time µs) and
    ``columns[name][i]`` (None for a missing value) are row ``i``."""

    times: list[int]
    columns: dict[str, list[Any]]

    def __len__(self) -> int:
        return len(self.times)

    @classmethod
    def of(cls, rows: Sequence[tuple[int, Mapping[str, Any]]], names: Sequence[str]) -> Rows:
        """Rows from ``(event time, {column: value})`` pairs."""
        return cls([t for t, _ in rows], {n: [r.get(n) for _, r in rows] for n in names})

    def row(self, i: int) -> dict[str, Any]:
        """Row ``i`` as ``{column: value}``."""
        return {name: values[i] for name, values in self.columns.items()}

    def take(self, keep: Sequence[int]) -> Rows:
        """The rows at the positions ``keep``, in that order."""
        return Rows(
            [self.times[i] for i in keep],
            {name: [values[i] for i in keep] for name, values in self.columns.items()},
        )

    def then(self, other: Rows) -> Rows:
        """These rows followed by ``other`` (same columns)."""
        if not other.times:
            return self
        if not self.times:
            return other
        return Rows(
            self.times + other.times,
            {name: values + other.columns[name] for name, values in self.columns.items()},
        )


@dataclass
class Decoded:
    """A decoded batch: every event's row (positions as in the input) and the reason of each
    event that is not usable (its row holds placeholders)."""

    rows: Rows
    bad: dict[int, str]


def decode(builder: RowBuilder, values: Sequence[Any]) -> Decoded:
    """Type the events ``values`` like ``[builder.row(v) for v in values]`` would, a
    :class:`~cairn.streams.events.BadEvent` becoming an entry of ``bad``."""
    if not all(type(v) is dict for v in values):
        return _one_by_one(builder, values)
    unit = _PER_UNIT[builder.source.timestamp_unit]
    slow: set[int] = set()
    field = builder.source.batch.timestamp_field
    raw = [v.get(field) for v in values]
    if set(map(type, raw)) <= {int}:
        times: list[int] = raw if unit == 1 else [t * unit for t in raw]
    else:
        times = [t * unit if type(t) is int else 0 for t in raw]
        slow.update(i for i, t in enumerate(raw) if type(t) is not int)
    columns: dict[str, list[Any]] = {}
    for name, dtype in builder.dtypes.items():
        column = [v.get(name) for v in values]
        plain = _PLAIN[dtype]
        kinds = set(map(type, column))
        if not kinds <= plain:
            slow.update(i for i, x in enumerate(column) if type(x) not in plain)
        columns[name] = _convert(column, dtype, kinds, unit)
    bad: dict[int, str] = {}
    for i in sorted(slow):  # in order: the first value seen fixes an open dtype
        try:
            ts, row = builder.row(values[i])
        except BadEvent as exc:
            bad[i] = str(exc)
            continue
        times[i] = ts
        for name, typed in row.items():
            columns[name][i] = typed
    return Decoded(Rows(times, columns), bad)


def _convert(column: list[Any], dtype: Dtype | None, kinds: set[type], unit: int) -> list[Any]:
    """The typed values of a column's plain values (others are replaced later)."""
    convert: Callable[[Any], Any] | None = None
    if dtype is Dtype.FLOAT64:
        if int in kinds:
            return [float(x) if type(x) is int else (None if x != x else x) for x in column]
        if float in kinds:
            return [None if x != x else x for x in column]  # NaN is missing
    elif dtype is Dtype.STRING and int in kinds:
        convert = str
    elif dtype is Dtype.TIMESTAMP and int in kinds:
        return [x * unit if type(x) is int else x for x in column]
    if convert is not None:
        return [convert(x) if type(x) is int else x for x in column]
    return column


def _one_by_one(builder: RowBuilder, values: Sequence[Any]) -> Decoded:
    """The per-event path, for a batch holding a value that is not a JSON object."""
    names = list(builder.dtypes)
    rows = Rows([], {name: [] for name in names})
    bad: dict[int, str] = {}
    for i, value in enumerate(values):
        try:
            ts, row = builder.row(value)
        except BadEvent as exc:
            bad[i] = str(exc)
            ts, row = 0, {}
        rows.times.append(ts)
        for name in names:
            rows.columns[name].append(row.get(name))
    return Decoded(rows, bad)
