"""Hop tiles and sawtooth windows, in integer microseconds.

The value of a windowed feature at time ``t`` covers events with
``floor(t, hop) - window <= event_ts < t``: the start snaps down to a hop boundary, the end
is exact. With ``hop == 0`` the window slides exactly: ``t - window <= event_ts < t``.
"""

from __future__ import annotations

from cairn.core.types import Micros


def tile_start(ts: Micros, hop: Micros) -> Micros:
    """The start of the hop tile holding ``ts`` (floor division, correct before 1970).

    Example
    -------
    >>> tile_start(3_700, 1_000), tile_start(-1, 1_000)
    (3000, -1000)
    """
    return ts - ts % hop


def window_bounds(t: Micros, window: Micros, hop: Micros) -> tuple[Micros, Micros]:
    """``(start, end)`` of the events counted at ``t``: ``start <= event_ts < end``.

    Example
    -------
    >>> window_bounds(10_500, 5_000, 1_000)
    (5000, 10500)
    >>> window_bounds(10_500, 5_000, 0)
    (5500, 10500)
    """
    if hop == 0:
        return t - window, t
    return tile_start(t, hop) - window, t


def full_tiles(t: Micros, window: Micros, hop: Micros) -> range:
    """Starts of the complete tiles in the window at ``t``; the tile at ``tile_start(t)``
    is partial (it covers ``[tile_start(t), t)``)."""
    end = tile_start(t, hop)
    return range(end - window, end, hop)
