"""Materialization: the offline data -> the online store, in bulk, idempotently (DESIGN §3.1).

* Snapshot views: per key, the greatest ``(event_ts, created_ts, seq)`` among the rows that
  became visible in the run's range; the store keeps the greater of that and what it holds.
* Windowed views: every hop tile touched by newly visible rows is recomputed from *all* its
  rows known at the run's end (partial states from the aggregation library) and overwritten.

Both writes are idempotent, and the watermark is recorded only after every write, so a run
killed midway is simply run again: no duplicates, no gaps. Incremental runs select rows by
availability time ``max(event_ts + 1µs, created_ts)``, so late rows are picked up, plus every
row of the files that are new or rewritten since the last run (``Range.files``), whatever its
created time: a row is materialized by the first incremental run that can see it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from cairn.core.config import OfflineSettings
from cairn.core.online import OnlineStore, TileRecord
from cairn.core.timeutil import format_duration
from cairn.core.types import Dtype, Micros
from cairn.features.aggregates import get_function
from cairn.features.aggregation import Aggregation
from cairn.features.feature_view import FeatureView
from cairn.offline.connection import quote
from cairn.offline.select import source_query
from cairn.offline.source_query import SourceQuery
from cairn.offline.validate import check_view
from cairn.offline.windows import DUCKDB, WindowDialect

BATCH = 20_000
Progress = Callable[[int], None]
KeyPartitions = tuple[Sequence[int], int]
"""``(owned, count)``: the partitions (of ``count``) whose keys a run takes."""


@dataclass(frozen=True)
class Range:
    """Which rows a run takes: incremental ``after < avail <= end``, or explicit
    ``start <= event_ts < end`` known by ``end``."""

    end: Micros
    after: Micros | None = None
    start: Micros | None = None
    files: tuple[str, ...] = ()
    """Absolute paths of Parquet files whose rows an incremental run takes whatever their
    availability time (new or rewritten since the last run)."""

    @property
    def kind(self) -> str:
        """``"incremental"`` or ``"range"``."""
        return "range" if self.start is not None else "incremental"


@dataclass(frozen=True)
class MaterializeResult:
    """What one view's run wrote."""

    view: str
    kind: str
    records: int
    tiles: int
    max_event_us: Micros | None
    seconds: float


def storage_name(namespace: str, view: str) -> str:
    """``namespace.view`` (or ``view`` without a namespace).

    Example
    -------
    >>> storage_name("credit", "txn_stats")
    'credit.txn_stats'
    """
    return f"{namespace}.{view}" if namespace else view


def versioned_storage(namespace: str, view: str, definition_hash: str) -> str:
    """The name a view over a stream source is stored under: one storage per definition, so
    a changed definition is backfilled beside the one being served (``@`` and the first 12
    characters of the definition hash).

    Example
    -------
    >>> versioned_storage("credit", "card_velocity", "9f2c4e1ab07d55e3")
    'credit.card_velocity@9f2c4e1ab07d'
    """
    return f"{storage_name(namespace, view)}@{definition_hash[:12]}"


def hop_groups(view: FeatureView) -> dict[str, list[Aggregation]]:
    """Aggregations sharing a tile size share tiles; the key is the hop's name (``"0s"``:
    exact windows, stored as 1 µs tiles, one per event time)."""
    groups: dict[str, list[Aggregation]] = {}
    for agg in view.aggregations:
        groups.setdefault(format_duration(agg.hop_us), []).append(agg)
    return groups


def tile_size(aggs: list[Aggregation]) -> Micros:
    """Tile length of a hop group (1 µs for exact windows)."""
    return aggs[0].hop_us or 1


def key_expr(view: FeatureView, prefix: str = "", dialect: WindowDialect = DUCKDB) -> str:
    """SQL for the storage key (see :func:`cairn.core.online.encode_key`)."""
    text = dialect.type_name(Dtype.STRING)
    parts = [f"CAST({prefix}{dialect.quote(k)} AS {text})" for k in view.join_keys]
    return parts[0] if len(parts) == 1 else f"concat_ws(chr(31), {', '.join(parts)})"


class Materializer:
    """Computes records and tiles with the engine ``offline.engine`` names (DuckDB, or Spark
    SQL through :func:`cairn.offline.select.source_query`) and writes them to an online store."""

    def __init__(
        self, settings: OfflineSettings, root: Path, online: OnlineStore, namespace: str = ""
    ) -> None:
        self.settings = settings
        self.root = root
        self.online = online
        self.namespace = namespace

    def storage_name(self, view: str) -> str:
        """The name a view is stored under: projects sharing one online store stay apart."""
        return storage_name(self.namespace, view)

    def run(
        self,
        view: FeatureView,
        span: Range,
        progress: Progress | None = None,
        *,
        storage: str | None = None,
        partitions: KeyPartitions | None = None,
    ) -> MaterializeResult:
        """Materialize one view over ``span`` (into ``storage``, default the view's name;
        with ``partitions``, only the keys that hash to them: one stream processor's share)."""
        target = storage or self.storage_name(view.name)
        began = time.perf_counter()
        query = source_query(self.settings, self.root, view.source, with_file=bool(span.files))
        try:
            only = ""
            if partitions is not None:
                owned, count = partitions
                part = query.partition(key_expr(view, dialect=query.dialect), count)
                only = f" AND {part} IN ({', '.join(map(str, owned))})"
            dtypes = check_view(view, query.relation.columns)
            max_event = _max_event(query, view, span)
            if view.is_windowed:
                tiles = sum(
                    self._tiles(query, view, group, aggs, span, dtypes, progress, target, only)
                    for group, aggs in hop_groups(view).items()
                )
                records = 0
            else:
                records, tiles = self._snapshot(query, view, span, progress, target), 0
        finally:
            query.close()
        return MaterializeResult(
            view.name, span.kind, records, tiles, max_event, time.perf_counter() - began
        )

    def _snapshot(
        self,
        query: SourceQuery,
        view: FeatureView,
        span: Range,
        progress: Progress | None,
        storage: str,
    ) -> int:
        winners = query.local(snapshot_sql(view, span, query.view, query.dialect))
        # DuckDB encodes each record's values as one JSON array (exact shortest round-trip
        # doubles), so no Python object is built per value; rows come sorted by key because
        # B-tree inserts in key order are several times faster than random ones
        parts = " || ',' || ".join(_json_value(f.name, Dtype.parse(f.dtype)) for f in view.schema)
        sql = (
            f"SELECT __key, __ev, __cr, __seq, encode('[' || {parts} || ']') AS __values "
            f"FROM {winners} ORDER BY __key"
        )
        written = 0
        for cols in _batches(query.con, sql):
            written += self.online.write_encoded(
                storage,
                list(
                    zip(
                        cols["__key"],
                        cols["__ev"],
                        cols["__cr"],
                        cols["__seq"],
                        cols["__values"],
                        strict=True,
                    )
                ),
            )
            if progress:
                progress(len(cols["__key"]))
        return written

    def _tiles(
        self,
        query: SourceQuery,
        view: FeatureView,
        group: str,
        aggs: list[Aggregation],
        span: Range,
        dtypes: dict[str, Dtype],
        progress: Progress | None,
        storage: str,
        only: str = "",
    ) -> int:
        functions = [(a.name, get_function(a.function)) for a in aggs]
        states = query.local(tiles_sql(view, aggs, span, dtypes, query.view, query.dialect, only))
        written = 0
        for cols in _batches(query.con, f"SELECT * FROM {states} ORDER BY __key, __tile"):
            keys, starts = cols["__key"], cols["__tile"]
            tile_states = [
                [fn.state_from_sql(v) for v in cols[f"__s{j}"]]
                for j, (_, fn) in enumerate(functions)
            ]
            written += self.online.write_tiles(
                storage,
                [
                    TileRecord(
                        keys[i],
                        group,
                        starts[i],
                        span.end,
                        {name: tile_states[j][i] for j, (name, _) in enumerate(functions)},
                    )
                    for i in range(len(keys))
                ],
            )
            if progress:
                progress(len(keys))
        return written


def snapshot_sql(view: FeatureView, span: Range, source: str, dialect: WindowDialect) -> str:
    """The winning row per key among the rows visible in ``span``: the greatest
    ``(event_ts, created_ts, seq)``, with ``__key``, ``__ev``, ``__cr``, ``__seq`` and the
    view's columns as they are in the source."""
    q = dialect.quote
    columns = ", ".join(q(f.name) for f in view.schema)
    return (
        f"SELECT __key, __ev, __cr, __seq, {columns} FROM (SELECT {key_expr(view, '', dialect)} "
        f"AS __key, __ev, __cr, __seq, {columns}, row_number() OVER (PARTITION BY "
        f"{', '.join(map(q, view.join_keys))} ORDER BY __ev DESC, __cr DESC, __seq DESC) AS __rn "
        f"FROM {source} WHERE {_visible(view, span, dialect)}) WHERE __rn = 1"
    )


def tiles_sql(
    view: FeatureView,
    aggs: list[Aggregation],
    span: Range,
    dtypes: dict[str, Dtype],
    source: str,
    dialect: WindowDialect,
    only: str = "",
) -> str:
    """The tiles of one hop group that ``span`` touched, recomputed from every row known at
    its end: ``__key``, ``__tile`` (start) and ``__s<i>``, the partial state of aggregation
    ``i`` (:meth:`~cairn.features.aggregates.base.AggregateFunction.state_sql`)."""
    q = dialect.quote
    size = tile_size(aggs)
    lowest = span.end - span.end % size - max(a.window_us for a in aggs)
    if span.start is not None:
        lowest = max(lowest, span.start - span.start % size)
    tile = f"(__ev - (((__ev % {size}) + {size}) % {size}))"
    states = []
    for i, agg in enumerate(aggs):
        col = q(agg.column)
        present = f"{col} IS NOT NULL"
        if dtypes[agg.column] is Dtype.FLOAT64:
            present += f" AND NOT isnan({col})"
        order = dialect.order("__ev", "__cr", "__seq")
        state = dialect.state(
            get_function(agg.function),
            f"CASE WHEN {present} THEN {col} END",
            f"CASE WHEN {present} THEN {order} END",
        )
        states.append(f"{state} AS __s{i}")
    key = key_expr(view, "", dialect)
    known = (
        f"{_not_null(view, dialect)} AND __ev < {span.end} AND __cr <= {span.end} "
        f"AND __ev >= {lowest}{only}"
    )
    touched = ""
    if span.after is not None:
        touched = (
            f"AND ({key}, {tile}) IN (SELECT DISTINCT {key}, {tile} FROM {source} "
            f"WHERE {known} AND {_new(span, dialect)})"
        )
    return (
        f"SELECT {key} AS __key, {tile} AS __tile, {', '.join(states)} "
        f"FROM {source} WHERE {known} {touched} GROUP BY {key}, {tile}"
    )


def _visible(view: FeatureView, span: Range, dialect: WindowDialect) -> str:
    avail = "greatest(__ev + 1, __cr)"
    cond = f"{_not_null(view, dialect)} AND {avail} <= {span.end}"
    if span.after is not None:
        cond += f" AND {_new(span, dialect)}"
    if span.start is not None:
        cond += f" AND __ev >= {span.start}"
    return cond


def _new(span: Range, dialect: WindowDialect) -> str:
    """Rows an incremental run has not taken before: available since its ``after``, or in a
    new or rewritten file."""
    cond = f"greatest(__ev + 1, __cr) > {span.after}"
    if span.files:
        cond = f"({cond} OR __file IN ({', '.join(dialect.literal(f) for f in span.files)}))"
    return cond


def _not_null(view: FeatureView, dialect: WindowDialect) -> str:
    return " AND ".join(f"{dialect.quote(k)} IS NOT NULL" for k in view.join_keys)


def _json_value(name: str, dtype: Dtype) -> str:
    """SQL for one value as JSON text; null, NaN and infinities become ``null``."""
    col = quote(name)
    if dtype is Dtype.TIMESTAMP:  # stored as epoch microseconds, decoded on read
        return f"coalesce(to_json(epoch_us(CAST({col} AS TIMESTAMPTZ))), 'null')"
    value = f"CAST({col} AS {dtype.sql})"
    if dtype is Dtype.FLOAT64:
        return f"CASE WHEN isfinite({value}) THEN to_json({value}) ELSE 'null' END"
    return f"coalesce(to_json({value}), 'null')"


def _max_event(query: SourceQuery, view: FeatureView, span: Range) -> Micros | None:
    visible = _visible(view, span, query.dialect)
    found = query.local(f"SELECT max(__ev) AS __max FROM {query.view} WHERE {visible}")
    row = query.con.execute(f"SELECT __max FROM {found}").fetchall()[0]
    return None if row[0] is None else int(row[0])


def _batches(con: duckdb.DuckDBPyConnection, sql: str) -> Iterator[dict[str, list[Any]]]:
    """Result batches as column name -> Python values (column-wise: faster than rows)."""
    reader = con.sql(sql).to_arrow_reader(BATCH)
    for batch in reader:
        yield {name: batch.column(i).to_pylist() for i, name in enumerate(batch.schema.names)}
