"""Spark SQL of a training set: the point-in-time rules of DESIGN §3.1 and §3.2, as the DuckDB
engine states them (:mod:`cairn.offline.snapshot`, :mod:`cairn.offline.windows`).

Snapshot views: the rows that can win at some time are kept exactly as the DuckDB engine keeps
them (at most one per key and availability time, their orders increasing with availability).
Spark has no ASOF join, so the as-of step is a sort: survivors (at their availability time) and
entity rows (at their request time) are unioned and ordered per key, survivors first on equal
times (available at ``t`` means visible at ``t``); each entity row takes the last survivor before
it. With a TTL only that winner is checked, as in DuckDB.

Windowed views: distinct ``(keys, t)`` pairs are range-joined to the source, each aggregation
filters its own window and runs the aggregation library's Spark SQL form.
"""

from __future__ import annotations

from collections.abc import Sequence

from cairn.core.types import Dtype
from cairn.features.aggregates import get_function
from cairn.features.aggregation import Aggregation
from cairn.features.feature_view import FeatureView
from cairn.offline.retrieval import ViewRequest
from cairn.offline.spark.sources import squote
from cairn.offline.windows import window_start

SPARK_TYPES = {
    Dtype.INT64: "BIGINT",
    Dtype.FLOAT64: "DOUBLE",
    Dtype.STRING: "STRING",
    Dtype.BOOL: "BOOLEAN",
    Dtype.TIMESTAMP: "TIMESTAMP",
}
"""The Spark SQL type a value of each dtype is cast to (the DuckDB engine: ``Dtype.sql``)."""


def snapshot_survivors(view: FeatureView, source: str, features: Sequence[str]) -> str:
    """The rows of ``source`` that win at some time: join keys, ``__avail`` (the first time the
    row is visible), ``__ev`` and the features as ``__f0, __f1, ...``."""
    keys = ", ".join(squote(k) for k in view.join_keys)
    not_null = " AND ".join(f"{squote(k)} IS NOT NULL" for k in view.join_keys)
    values = ", ".join(
        f"CAST({squote(f)} AS {SPARK_TYPES[Dtype.parse(view.field(f).dtype)]}) AS __f{i}"
        for i, f in enumerate(features)
    )
    names = ", ".join(f"__f{i}" for i in range(len(features)))
    src = squote(source)
    if view.source.created_timestamp_column is None:
        # visible once event_ts < t: only ties on (key, event_ts) need settling, by file order
        return (
            f"SELECT {keys}, __ev + 1 AS __avail, __ev, {names} FROM (SELECT {keys}, __ev, "
            f"__seq, max(__seq) OVER (PARTITION BY {keys}, __ev) AS __last, {values} "
            f"FROM {src} WHERE {not_null}) WHERE __seq = __last"
        )
    order = f"PARTITION BY {keys} ORDER BY __avail, __ev, __cr, __seq"
    return (
        f"SELECT {keys}, __avail, __ev, {names} FROM (SELECT {keys}, __avail, __ev, {names}, "
        f"lead(__avail) OVER ({order}) AS __next, "
        f"max(__ev) OVER ({order} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS __run "
        f"FROM (SELECT {keys}, greatest(__ev + 1, __cr) AS __avail, __ev, __cr, __seq, {values} "
        f"FROM {src} WHERE {not_null})) "
        f"WHERE NOT (__next <=> __avail) AND __ev = __run"
    )


def snapshot_cte(
    view: FeatureView, survivors: str, features: Sequence[str], entities: str = "__entities"
) -> str:
    """``__row`` and one ``__f<i>`` per feature for every entity row: the as-of step over
    ``survivors`` (a :func:`snapshot_survivors` relation), then the TTL check."""
    keys = ", ".join(squote(k) for k in view.join_keys)
    types = ", ".join(
        f"__f{i}: {SPARK_TYPES[Dtype.parse(view.field(f).dtype)]}" for i, f in enumerate(features)
    )
    hit_type = f"STRUCT<__ev: BIGINT, {types}>"
    hit = "named_struct('__ev', __ev, " + ", ".join(
        f"'__f{i}', __f{i}" for i in range(len(features))
    )
    union = (
        f"SELECT {keys}, __avail AS __time, 0 AS __kind, CAST(NULL AS BIGINT) AS __row, "
        f"CAST(NULL AS BIGINT) AS __t, {hit}) AS __hit FROM {survivors} "
        f"UNION ALL SELECT {keys}, __t AS __time, 1 AS __kind, __row, __t, "
        f"CAST(NULL AS {hit_type}) AS __hit FROM {squote(entities)}"
    )
    asof = (
        f"SELECT __kind, __row, __t, last(__hit, true) OVER (PARTITION BY {keys} "
        f"ORDER BY __time, __kind ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS __win "
        f"FROM ({union})"
    )
    ttl = view.ttl_us
    fresh = "true" if ttl is None else f"__win.__ev >= __t - {ttl}"
    outputs = ", ".join(
        f"CASE WHEN {fresh} THEN __win.__f{i} END AS __f{i}" for i in range(len(features))
    )
    return f"SELECT __row, {outputs} FROM ({asof}) WHERE __kind = 1"


def window_cte(
    view: FeatureView,
    source: str,
    aggregations: Sequence[Aggregation],
    source_types: dict[str, Dtype],
    entities: str = "__entities",
) -> str:
    """The join keys, ``__t`` and one ``__f<i>`` per aggregation for every distinct
    ``(keys, t)`` of the entity rows that has an event in its widest window."""
    keys = [squote(k) for k in view.join_keys]
    q_keys = ", ".join(f"q.{k}" for k in keys)
    starts = [window_start("q.__t", a) for a in aggregations]
    lo = starts[0] if len(starts) == 1 else f"least({', '.join(starts)})"
    on = " AND ".join([f"s.{k} = q.{k}" for k in keys] + [f"s.__ev >= {lo}", "s.__ev < q.__t"])
    if view.source.created_timestamp_column is not None:
        on += " AND s.__cr <= q.__t"
    outputs = []
    for i, (agg, start) in enumerate(zip(aggregations, starts, strict=True)):
        fn = get_function(agg.function)
        col = f"s.{squote(agg.column)}"
        present = f"s.__ev >= {start} AND {col} IS NOT NULL"
        if source_types[agg.column] is Dtype.FLOAT64:
            present += f" AND NOT isnan({col})"
        value = f"CASE WHEN {present} THEN {col} END"
        order = f"CASE WHEN {present} THEN named_struct('e', s.__ev, 'c', s.__cr, 's', s.__seq) END"
        out = SPARK_TYPES[fn.output_dtype(source_types[agg.column])]
        outputs.append(f"CAST({fn.spark_sql(value, order)} AS {out}) AS __f{i}")
    return (
        f"SELECT {q_keys}, q.__t, {', '.join(outputs)} "
        f"FROM (SELECT DISTINCT {', '.join(keys)}, __t FROM {squote(entities)}) q "
        f"JOIN {squote(source)} s ON {on} GROUP BY {q_keys}, q.__t"
    )


def window_value(alias: str, index: int, agg: Aggregation) -> str:
    """The output of one aggregation; an empty window gives the function's empty value."""
    fn = get_function(agg.function)
    empty = fn.finalize(fn.init())
    value = f"{alias}.__f{index}"
    return value if empty is None else f"coalesce({value}, {empty})"


def training_query(
    requests: Sequence[ViewRequest],
    sources: Sequence[str],
    output_names: dict[tuple[str, str], str],
    entities: str = "__entities",
) -> str:
    """The Spark SQL returning ``__row`` and every requested feature, in request order
    (``sources[i]`` is the temporary view of ``requests[i]``'s source; rows unordered)."""
    ctes, joins = [], []
    exprs: dict[tuple[str, str], str] = {}
    for i, (req, source) in enumerate(zip(requests, sources, strict=True)):
        alias = f"__v{i}"
        view = req.view
        if view.is_windowed:
            by_name = {a.name: a for a in view.aggregations}
            aggs = [by_name[f] for f in req.features]
            ctes.append(
                f"{alias} AS ({window_cte(view, source, aggs, req.source_types, entities)})"
            )
            on = " AND ".join(
                [f"e.{squote(k)} = {alias}.{squote(k)}" for k in view.join_keys]
                + [f"e.__t = {alias}.__t"]
            )
            joins.append(f"LEFT JOIN {alias} ON {on}")
            for j, agg in enumerate(aggs):
                exprs[(view.name, agg.name)] = window_value(alias, j, agg)
        else:
            ctes.append(f"{alias}_s AS ({snapshot_survivors(view, source, req.features)})")
            ctes.append(f"{alias} AS ({snapshot_cte(view, f'{alias}_s', req.features, entities)})")
            joins.append(f"LEFT JOIN {alias} ON e.__row = {alias}.__row")
            for j, f in enumerate(req.features):
                exprs[(view.name, f)] = f"{alias}.__f{j}"
    outputs = [f"{exprs[ref]} AS {squote(name)}" for ref, name in output_names.items()]
    return (
        f"WITH {', '.join(ctes)} SELECT e.__row, {', '.join(outputs)} "
        f"FROM {squote(entities)} e {' '.join(joins)}"
    )
