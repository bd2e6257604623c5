"""Online reads: stored records and tiles -> exactly the offline point-in-time value at ``now``.

Snapshot views: the stored winner, nulled when older than the TTL. Windowed views: the tiles
of the window ``[floor(now, hop) - window, now)`` merged with the aggregation library, so events
fall out of the window as time passes, without any rewrite.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from cairn.core.errors import EntityDataFrameError
from cairn.core.online import (
    KEY_SEPARATOR,
    OnlineStore,
    ReadRequest,
    ReadResult,
    SnapshotRead,
    SnapshotRecord,
    TileRead,
    TileRecord,
    read_many,
)
from cairn.core.timeutil import from_micros
from cairn.core.types import Dtype, Micros
from cairn.features.aggregates import AggregateFunction, get_function
from cairn.features.feature_view import FeatureView
from cairn.online.materialize import hop_groups, tile_size
from cairn.online.response import OnlineResponse

EntityRows = Sequence[Mapping[str, Any]] | Mapping[str, Sequence[Any]]
_ABSENT = object()
"""A tile without a state for an aggregation: written for an older definition of the view,
before its tiles were rebuilt; the value is unknown (null), never a partial one."""


@dataclass(frozen=True)
class _Agg:
    name: str
    fn: AggregateFunction
    window: Micros


@dataclass(frozen=True)
class _Group:
    """The wanted aggregations of one hop group, with what every read of them needs."""

    name: str
    size: Micros
    """Tile length (1 µs for exact windows)."""
    aggs: tuple[_Agg, ...]
    longest: Micros
    """The longest window of ``aggs``: how far back the tiles are read."""


@dataclass(frozen=True)
class ViewPlan:
    """How to read one view: its keys, the positions of wanted features, decoders."""

    view: FeatureView
    key_types: tuple[Dtype, ...]
    positions: tuple[int, ...]
    features: tuple[str, ...]
    windowed: bool
    groups: tuple[_Group, ...]
    join_keys: tuple[str, ...]
    ttl_us: Micros | None
    storage: str
    """The name the view is stored under in the online store."""
    stamp_positions: tuple[bool, ...]


def plan_view(
    view: FeatureView,
    features: Sequence[str],
    key_types: Sequence[Dtype],
    output_dtypes: Mapping[str, Dtype],
    storage: str = "",
) -> ViewPlan:
    """Precompute what a read of ``features`` from ``view`` needs."""
    names = view.feature_names
    groups = []
    if view.is_windowed:
        for group, aggs in hop_groups(view).items():
            chosen = tuple(
                _Agg(a.name, get_function(a.function), a.window_us)
                for a in aggs
                if a.name in features
            )
            if chosen:
                longest = max(a.window for a in chosen)
                groups.append(_Group(group, tile_size(aggs), chosen, longest))
    return ViewPlan(
        view,
        tuple(key_types),
        tuple(names.index(f) for f in features),
        tuple(features),
        view.is_windowed,
        tuple(groups),
        view.join_keys,
        view.ttl_us,
        storage or view.name,
        tuple(output_dtypes.get(f) is Dtype.TIMESTAMP for f in features),
    )


def entity_keys(plan: ViewPlan, rows: list[Mapping[str, Any]]) -> list[str]:
    """Storage keys of the entity rows, checking each join key's presence and type."""
    if len(plan.join_keys) == 1:  # the common case, kept tight: it runs per entity per request
        name, dtype = plan.join_keys[0], plan.key_types[0]
        want: type = int if dtype is Dtype.INT64 else str
        try:
            values = [row[name] for row in rows]
        except KeyError:
            values = []
        if len(values) == len(rows) and all(
            type(v) is want or (want is int and isinstance(v, int) and not isinstance(v, bool))
            for v in values
        ):
            return [str(v) for v in values]
    keys = []
    for i, row in enumerate(rows):
        parts = []
        for name, dtype in zip(plan.join_keys, plan.key_types, strict=True):
            if name not in row:
                raise EntityDataFrameError(
                    f"entity row {i} is missing the join key {name!r} of view "
                    f"{plan.view.name!r}; got keys {sorted(row)}."
                )
            value = row[name]
            ok = (
                (isinstance(value, int) and not isinstance(value, bool))
                if dtype is Dtype.INT64
                else isinstance(value, str)
            )
            if not ok:
                expected = "an integer" if dtype is Dtype.INT64 else "a string"
                raise EntityDataFrameError(
                    f"entity row {i}: join key {name!r} must be {expected}; got "
                    f"{type(value).__name__} {value!r}."
                )
            parts.append(str(value))
        keys.append(KEY_SEPARATOR.join(parts))
    return keys


def view_requests(plan: ViewPlan, keys: list[str], now: Micros) -> list[ReadRequest]:
    """The store reads one view needs at ``now``: one snapshot read, or one tile read per group
    (answered together by :func:`~cairn.core.online.read_many`, then :func:`finish_view`)."""
    if not plan.windowed:
        return [SnapshotRead(plan.storage, keys)]
    requests: list[ReadRequest] = []
    for g in plan.groups:
        if g.size == 1:
            requests.append(TileRead(plan.storage, g.name, keys, now - g.longest, now - 1))
        else:
            end = now - now % g.size
            requests.append(TileRead(plan.storage, g.name, keys, end - g.longest, end))
    return requests


def finish_view(
    plan: ViewPlan, n_keys: int, now: Micros, results: Sequence[ReadResult]
) -> tuple[list[list[Any]], list[bool]]:
    """Feature columns and found flags of ``n_keys`` keys of one view from the answers to its
    :func:`view_requests` (same order)."""
    if not plan.windowed:
        return _finish_snapshot(plan, cast(list[SnapshotRecord | None], results[0]), now)
    columns: dict[str, list[Any]] = {}
    found = [False] * n_keys
    for group, result in zip(plan.groups, results, strict=True):
        per_key = cast(list[list[TileRecord]], result)
        end = now - now % group.size if group.size > 1 else now
        for agg in group.aggs:
            start = end - agg.window
            out = []
            for i, tiles in enumerate(per_key):
                state = agg.fn.init()
                known = True
                for tile in tiles:
                    if tile.start >= start:
                        part = tile.states.get(agg.name, _ABSENT)
                        if part is _ABSENT:  # built for an older definition of the view
                            known = False
                            break
                        state = agg.fn.merge(state, part)
                        found[i] = True
                out.append(agg.fn.finalize(state) if known else None)
            columns[agg.name] = out
    return [columns[f] for f in plan.features], found


def _finish_snapshot(
    plan: ViewPlan, records: list[SnapshotRecord | None], now: Micros
) -> tuple[list[list[Any]], list[bool]]:
    oldest = None if plan.ttl_us is None else now - plan.ttl_us
    found = [r is not None for r in records]
    live = [
        r.values if r is not None and (oldest is None or r.event_ts >= oldest) else None
        for r in records
    ]
    columns: list[list[Any]] = []
    for pos, stamp in zip(plan.positions, plan.stamp_positions, strict=True):
        column = [None if v is None else v[pos] for v in live]
        if stamp:
            column = [None if v is None else from_micros(v) for v in column]
        columns.append(column)
    return columns, found


def as_rows(entity_rows: EntityRows) -> list[Mapping[str, Any]]:
    """Entity rows as a list of mappings (accepts a list of dicts or a dict of lists)."""
    if isinstance(entity_rows, Mapping):
        names = list(entity_rows)
        columns = [list(entity_rows[n]) for n in names]
        lengths = {len(c) for c in columns}
        if len(lengths) > 1:
            raise EntityDataFrameError(
                "entity_rows columns must have equal lengths; got "
                f"{dict(zip(names, map(len, columns), strict=True))}."
            )
        return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]
    if isinstance(entity_rows, (str, bytes)) or not isinstance(entity_rows, Sequence):
        raise EntityDataFrameError(
            f"entity_rows must be a list of dicts (e.g. [{{'customer_id': 42}}]) or a dict of "
            f"lists; got {type(entity_rows).__name__}."
        )
    for i, row in enumerate(entity_rows):
        if not isinstance(row, Mapping):
            raise EntityDataFrameError(
                f"entity_rows[{i}] must be a dict of join keys; got {type(row).__name__} {row!r}."
            )
    return list(entity_rows)


def respond(
    plans: Sequence[ViewPlan],
    rows: list[Mapping[str, Any]],
    names: Mapping[tuple[str, str], str],
    store: OnlineStore,
    now: Micros,
) -> OnlineResponse:
    """Read every planned view, all views' reads in one :func:`~cairn.core.online.read_many`
    call (one round trip on Redis), and assemble the response."""
    columns: dict[str, list[Any]] = {}
    for plan in plans:
        for key in plan.join_keys:
            if key not in columns:
                columns[key] = [row.get(key) for row in rows]
    found = [False] * len(rows)
    values: dict[tuple[str, str], list[Any]] = {}
    requests: list[ReadRequest] = []
    counts: list[int] = []
    keys_of: dict[tuple[tuple[str, ...], tuple[Dtype, ...]], list[str]] = {}
    for plan in plans:  # every view's reads first, then all of them at once
        keyed_by = (plan.join_keys, plan.key_types)  # views of one entity share their keys
        keys = keys_of.get(keyed_by)
        if keys is None:
            keys = keys_of[keyed_by] = entity_keys(plan, rows)
        wanted = view_requests(plan, keys, now)
        requests.extend(wanted)
        counts.append(len(wanted))
    results = read_many(store, requests)
    at = 0
    for plan, count in zip(plans, counts, strict=True):
        per_feature, hit = finish_view(plan, len(rows), now, results[at : at + count])
        at += count
        for feature, column in zip(plan.features, per_feature, strict=True):
            values[(plan.view.name, feature)] = column
        found = [a or b for a, b in zip(found, hit, strict=True)]
    for ref, name in names.items():  # columns in request order
        columns[name] = values[ref]
    return OnlineResponse(columns, found)
