"""Spark SQL of a training set: the point-in-time rules of snapshot and windowed views, as the
DuckDB engine states them (:mod:`cairn.offline.snapshot`, :mod:`cairn.offline.windows`).

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
from cairn.features.feature_view import FeatureView
from cairn.offline.retrieval import ViewRequest
from cairn.offline.spark.sources import squote, string_literal
from cairn.offline.windows import WindowDialect, window_cte, window_join, window_value

SPARK_TYPES = {
    Dtype.INT64: "BIGINT",
    Dtype.FLOAT64: "DOUBLE",
    Dtype.STRING: "STRING",
    Dtype.BOOL: "BOOLEAN",
    Dtype.TIMESTAMP: "TIMESTAMP",
}
"""The Spark SQL type a value of each dtype is cast to (the DuckDB engine: ``Dtype.sql``)."""

SPARK = WindowDialect(
    quote=squote,
    order=lambda ev, cr, seq: f"named_struct('e', {ev}, 'c', {cr}, 's', {seq})",
    type_name=SPARK_TYPES.__getitem__,
    aggregate=lambda fn, value, order: fn.spark_sql(value, order),
    output=lambda i, agg: f"__f{i}",  # Spark's column names are case-insensitive
    state=lambda fn, value, order: fn.spark_state_sql(value, order),
    literal=string_literal,
)
"""The window query in Spark SQL (:func:`cairn.offline.windows.window_cte`)."""


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
            cte = window_cte(view, source, aggs, req.source_types, entities, SPARK)
            ctes.append(f"{alias} AS ({cte})")
            joins.append(window_join(view, alias, SPARK))
            for j, agg in enumerate(aggs):
                exprs[(view.name, agg.name)] = window_value(alias, agg, j, SPARK)
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
