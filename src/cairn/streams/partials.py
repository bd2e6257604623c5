"""One aggregate of a batch folded into many tiles at once, equal to folding event by event.

The stream processor used to call ``fn.update(state, value, order)`` once per event, tile and
aggregation. :func:`fold_into` takes the events of a whole micro-batch that fall into a set of
tiles (``tile[j]``: which tile event ``rows[j]`` of the batch updates) and gives every tile's
new state in one pass per aggregation, with NumPy doing the per-event work in C. Each path
gives *bit for bit* the state the per-event updates give, so a tile never depends on how the
events were batched:

* ``count``: a ``bincount`` of the non-missing values;
* ``sum`` and ``mean``'s sum (float columns): ``np.add.at`` starting from the tile's old sum,
  which adds the values one at a time in batch order, as ``update`` does (``np.add.reduceat``
  or ``bincount`` weights would round differently: they start from zero or sum pairwise);
* ``min``/``max`` (float columns): ``np.minimum.at``/``np.maximum.at``, a zero extreme made the
  tile's first zero (``update`` keeps the first of equal values, and ``-0.0 == 0.0``), then
  one comparison with the old state;
* ``last``: the greatest ``(event time, position)`` per tile, compared with the old order;
* ``var``/``std``: Welford's update in a tight Python loop over the batch's values (a
  sequential recurrence: vectorizing it would mean Chan's merge of batch moments, which is
  accurate but not equal bit for bit);
* anything else (an integer or text column, a function this module does not know): the
  function's own ``update``, event by event.

States are never changed in place (every path builds new lists), so tiles may share them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from cairn.features.aggregates import AggregateFunction, Count, Last, Max, Mean, Min, Std, Sum, Var

IntArray = np.ndarray[Any, np.dtype[np.int64]]
BoolArray = np.ndarray[Any, np.dtype[np.bool_]]
FloatArray = np.ndarray[Any, np.dtype[np.float64]]


class Column:
    """One typed column of a batch (None: missing), with its float64 form when it holds only
    floats (NaN stands for None there; a column holding NaN itself takes the generic path)."""

    def __init__(self, values: Sequence[Any]) -> None:
        self.values = values
        self.floats: FloatArray | None = None
        if set(map(type, values)) <= _FLOATS:
            array = pa.array(values, type=pa.float64())
            floats = array.to_numpy(zero_copy_only=False)
            valid = ~np.isnan(floats)
            if int(np.count_nonzero(valid)) == len(values) - array.null_count:
                self.floats = floats
                self.valid: BoolArray = valid
                return
        self.valid = np.fromiter((v is not None for v in values), bool, len(values))


_FLOATS = frozenset({float, type(None)})


def fold_into(
    fn: AggregateFunction,
    prev: list[Any],
    tile: IntArray,
    rows: IntArray,
    column: Column,
    times: Sequence[int],
    commit: int,
) -> list[Any]:
    """The states of ``len(prev)`` tiles after the batch's events ``rows`` (ascending batch
    positions, which are also their sequence numbers) updated tile ``tile[j]`` each;
    ``prev`` holds the tiles' states before. A tile without a non-missing value keeps its
    state object."""
    keep = column.valid[rows]
    tile, rows = tile[keep], rows[keep]
    if not rows.size:
        return prev
    counts = np.bincount(tile, minlength=len(prev)).tolist()
    kind = type(fn)
    floats = column.floats
    if kind is Count:
        return [p + c if c else p for p, c in zip(prev, counts, strict=True)]
    if floats is not None and kind in (Sum, Mean, Min, Max):
        return _numeric(kind, prev, tile, floats[rows], counts)
    if kind is Last:
        return _last(prev, tile, rows, column.values, times, commit)
    if kind is Var or kind is Std:
        return _welford(prev, tile, rows, column.values, counts)
    out = list(prev)
    values = column.values
    for t, i in zip(tile.tolist(), rows.tolist(), strict=True):
        out[t] = fn.update(out[t], values[i], (times[i], commit, i))
    return out


def _numeric(
    kind: type, prev: list[Any], tile: IntArray, values: FloatArray, counts: list[int]
) -> list[Any]:
    if kind is Sum or kind is Mean:
        sums = np.array([float(p if kind is Sum else p[1]) for p in prev])
        np.add.at(sums, tile, values)
        new = sums.tolist()
        if kind is Sum:
            return [s if c else p for p, s, c in zip(prev, new, counts, strict=True)]
        return [[p[0] + c, s] if c else p for p, s, c in zip(prev, new, counts, strict=True)]
    best = np.full(len(prev), -np.inf if kind is Max else np.inf)
    (np.maximum if kind is Max else np.minimum).at(best, tile, values)
    _first_zeros(best, tile, values)
    new = best.tolist()
    if kind is Max:
        return [
            p if not c or (p is not None and not b > p) else b
            for p, b, c in zip(prev, new, counts, strict=True)
        ]
    return [
        p if not c or (p is not None and not b < p) else b
        for p, b, c in zip(prev, new, counts, strict=True)
    ]


def _first_zeros(best: FloatArray, tile: IntArray, values: FloatArray) -> None:
    """Where a tile's extreme is a zero, make it the tile's *first* zero: ``update`` keeps
    the first of equal values, NumPy's ``maximum``/``minimum`` the last, and ``0.0`` and
    ``-0.0`` are equal but not the same float."""
    at_zero = best == 0
    if not at_zero.any():
        return
    zeros = np.flatnonzero((values == 0) & at_zero[tile])  # ascending: batch order
    tiles, first = np.unique(tile[zeros], return_index=True)
    best[tiles] = values[zeros[first]]


def _last(
    prev: list[Any],
    tile: IntArray,
    rows: IntArray,
    values: Sequence[Any],
    times: Sequence[int],
    commit: int,
) -> list[Any]:
    """Per tile the event of greatest ``(event time, position)``; it replaces the old state
    when its order ``[event time, commit, position]`` is not below the old one."""
    ts = np.array([times[i] for i in rows.tolist()], dtype=np.int64)
    order = np.lexsort((rows, ts, tile))
    tiles, at = tile[order], rows[order]
    ends = np.flatnonzero(np.append(tiles[1:] != tiles[:-1], True))
    out = list(prev)
    for t, i in zip(tiles[ends].tolist(), at[ends].tolist(), strict=True):
        key = [times[i], commit, i]
        p = out[t]
        if p is None or key >= p[0]:
            out[t] = [key, values[i]]
    return out


def _welford(
    prev: list[Any], tile: IntArray, rows: IntArray, values: Sequence[Any], counts: list[int]
) -> list[Any]:
    """Welford's update, exactly as ``Var.update`` does it, event by event."""
    ns = [p[0] for p in prev]
    means = [p[1] for p in prev]
    m2s = [p[2] for p in prev]
    for t, i in zip(tile.tolist(), rows.tolist(), strict=True):
        x = values[i]
        n = ns[t] + 1
        mean = means[t]
        delta = x - mean
        mean += delta / n
        m2s[t] = m2s[t] + delta * (x - mean)
        ns[t] = n
        means[t] = mean
    return [
        [ns[j], means[j], m2s[j]] if c else p
        for j, (p, c) in enumerate(zip(prev, counts, strict=True))
    ]
