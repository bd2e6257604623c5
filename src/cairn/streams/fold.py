"""Which hop tiles a micro-batch touches, and their states after it: by column, and (the
reference) event by event.

A tile family (a view's aggregations sharing a hop) keys its tiles by ``(storage, hop group,
key, tile start)``. An event touches one tile per family: its key's tile holding its event
time, unless its key is missing or it is older than every window of the family at the commit
time (``event < floor(commit, hop) - longest window``): no read at or after the commit counts
it, and the batch engine does not either. An event that touches no tile at all is *skipped*.

:func:`plan` finds the tiles with a few NumPy passes (key codes, tile starts, one sort per
family) instead of a dict lookup per event and family; :func:`fold` then folds each
aggregation of a family into all its tiles at once (:func:`~cairn.streams.partials.fold_into`).
:func:`fold_events` is the per-event definition both are tested against.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, Protocol, cast

import numpy as np
import pandas as pd

from cairn.core.online import encode_key
from cairn.features.aggregates import AggregateFunction, tile_start
from cairn.streams.decode import Rows
from cairn.streams.partials import Column, IntArray, fold_into

TileKey = tuple[str, str, str, int]
"""``(storage, hop group, key, tile start)``."""
States = Mapping[str, Any]
OldStates = Callable[[TileKey], States | None]
"""The states of a tile before the batch (None: a new tile, every state ``init``)."""
OldTiles = Callable[[list[TileKey]], list[States | None]]
""":data:`OldStates` of many tiles at once (one call per family and batch, not per tile)."""


class Family(Protocol):
    """A tile family of a view (the processor's hop group)."""

    @property
    def storage(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def longest(self) -> int: ...
    @property
    def keys(self) -> tuple[str, ...]: ...
    @property
    def aggs(self) -> tuple[tuple[str, str, AggregateFunction], ...]: ...


@dataclass
class Touch:
    """The tiles of one family a batch touches: event ``rows[j]`` updates ``tiles[tile[j]]``."""

    family: Family
    tiles: list[TileKey]
    tile: IntArray
    rows: IntArray
    """Ascending batch positions."""


@dataclass
class Plan:
    """Every family's touched tiles, and how many events touch none."""

    touches: list[Touch]
    skipped: int


def lowest_event(family: Family, commit: int) -> int:
    """The oldest event time a family's tiles still take at ``commit``."""
    return tile_start(commit, family.size) - family.longest


def plan(families: Sequence[Family], due: Rows, commit: int) -> Plan:
    """The tiles the rows ``due`` touch."""
    n = len(due)
    times = np.array(due.times, dtype=np.int64)
    codes = {names: _key_codes(due, names) for names in {f.keys for f in families}}
    touching = np.zeros(n, dtype=bool)
    touches: list[Touch] = []
    for f in families:
        key, keys = codes[f.keys]
        mask = (key >= 0) & (times >= lowest_event(f, commit))
        touching |= mask
        rows = np.flatnonzero(mask)
        starts = times[rows]
        starts -= starts % f.size
        codes_of = key[rows]
        order = np.lexsort((starts, codes_of))
        code_sorted, start_sorted = codes_of[order], starts[order]
        first = np.ones(len(rows), dtype=bool)
        first[1:] = (code_sorted[1:] != code_sorted[:-1]) | (start_sorted[1:] != start_sorted[:-1])
        tile = np.empty(len(rows), dtype=np.int64)
        tile[order] = np.cumsum(first) - 1
        tiles = [
            (f.storage, f.name, keys[k], s)
            for k, s in zip(code_sorted[first].tolist(), start_sorted[first].tolist(), strict=True)
        ]
        touches.append(Touch(f, tiles, tile, rows))
    return Plan(touches, n - int(np.count_nonzero(touching)))


def _key_codes(due: Rows, names: tuple[str, ...]) -> tuple[IntArray, list[str]]:
    """Per row a code of its storage key (-1: a join key is missing), and the keys by code."""
    if len(names) == 1:
        values: list[Any] = due.columns[names[0]]
        kinds = set(map(type, values)) - {type(None)}
        if not (kinds <= {int} or kinds <= {str}):  # str() of equal floats may differ (-0.0)
            values = [None if v is None else str(v) for v in values]
    else:
        columns = [due.columns[k] for k in names]
        values = [
            None if any(v is None for v in row) else encode_key(row)
            for row in zip(*columns, strict=True)
        ]
    codes, uniques = pd.factorize(np.array(values, dtype=object))
    return codes.astype(np.int64), [str(u) for u in uniques]


def fold(plan: Plan, due: Rows, commit: int, old: OldTiles) -> dict[TileKey, dict[str, Any]]:
    """Every planned tile's states after the batch ``due`` (order of the events: ``(event
    time, commit, position in due)``)."""
    columns: dict[str, Column] = {}
    out: dict[TileKey, dict[str, Any]] = {}
    for touch in plan.touches:
        f = touch.family
        empty = {name: fn.init() for name, _, fn in f.aggs}
        olds = [empty if o is None else o for o in old(touch.tiles)]
        names: list[str] = []
        results: list[list[Any]] = []
        partial = False
        for name, source, fn in f.aggs:
            column = columns.get(source)
            if column is None:
                column = columns[source] = Column(due.columns[source])
            try:
                prev = list(map(itemgetter(name), olds))
                absent = []
            except KeyError:
                prev = [s.get(name, _ABSENT) for s in olds]
                absent = [j for j, p in enumerate(prev) if p is _ABSENT]
            for j in absent:
                prev[j] = fn.init()
            new = fold_into(fn, prev, touch.tile, touch.rows, column, due.times, commit)
            for j in absent:  # a tile of an older definition: an update fails, as `update` would
                if new[j] is not prev[j]:
                    raise KeyError(name)
                new[j] = _ABSENT
                partial = True
            names.append(name)
            results.append(new)
        width = len(names)
        if partial:
            states = [
                {
                    n: v
                    for n, v in {**o, **dict(zip(names, values, strict=True))}.items()
                    if v is not _ABSENT
                }
                for o, values in zip(olds, zip(*results, strict=True), strict=True)
            ]
        elif all(len(o) == width for o in olds):  # no tile has states of other aggregations
            states = list(map(_maker(tuple(names)), *results))
        else:  # some do (tiles of old definitions)
            states = [
                dict(zip(names, values, strict=True))
                if len(o) == width
                else {**o, **dict(zip(names, values, strict=True))}
                for o, values in zip(olds, zip(*results, strict=True), strict=True)
            ]
        out.update(zip(touch.tiles, states, strict=True))
    return out


@functools.lru_cache(maxsize=256)
def _maker(names: tuple[str, ...]) -> Callable[..., dict[str, Any]]:
    """A function of ``len(names)`` values returning ``{names[0]: values[0], ...}``: a dict
    display, mapped over the aggregations' result lists, builds a batch's tile states in a
    third of the time of ``dict(zip(names, values))`` per tile."""
    args = ", ".join(f"v{i}" for i in range(len(names)))
    items = ", ".join(f"{name!r}: v{i}" for i, name in enumerate(names))
    scope: dict[str, Any] = {}
    exec(f"def make({args}):\n    return {{{items}}}\n", scope)  # the names are repr()s
    return cast("Callable[..., dict[str, Any]]", scope["make"])


class _Absent:
    """A state a stored tile does not have (written under an older definition)."""


_ABSENT: Any = _Absent()


def fold_events(
    families: Sequence[Family], due: Rows, commit: int, old: OldStates
) -> tuple[dict[TileKey, dict[str, Any]], int]:
    """The definition of :func:`plan` + :func:`fold`, one event at a time: every touched
    tile's states, and the number of events that touch no tile."""
    out: dict[TileKey, dict[str, Any]] = {}
    skipped = 0
    lowest = [lowest_event(f, commit) for f in families]
    for seq, ts in enumerate(due.times):
        row = {name: values[seq] for name, values in due.columns.items()}
        touched = False
        for f, bound in zip(families, lowest, strict=True):
            values = [row.get(k) for k in f.keys]
            if any(v is None for v in values) or ts < bound:
                continue
            touched = True
            key = (f.storage, f.name, encode_key(values), ts - ts % f.size)
            states = out.get(key)
            if states is None:
                before = old(key)
                states = out[key] = (
                    dict(before) if before is not None else {n: fn.init() for n, _, fn in f.aggs}
                )
            for name, column, fn in f.aggs:
                value = row.get(column)
                if value is not None:
                    states[name] = fn.update(states[name], value, (ts, commit, seq))
        skipped += not touched
    return out, skipped
