"""Batch SQL for windowed aggregations (DESIGN §3.2), from the shared aggregation library.

The value at ``t`` covers events with ``floor(t, hop) - window <= event_ts < t`` and
``created_ts <= t``. Distinct ``(keys, t)`` pairs are range-joined to the source once per view
(from the earliest window start of its aggregations); each aggregation then filters its own
window and runs the library's SQL form of its function.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cairn.core.types import Dtype
from cairn.features.aggregates import get_function
from cairn.features.aggregates.base import AggregateFunction
from cairn.features.aggregation import Aggregation
from cairn.features.feature_view import FeatureView
from cairn.offline.connection import literal, quote


@dataclass(frozen=True)
class WindowDialect:
    """What differs between the engines' SQL of one window query (and of materialization's
    queries, :mod:`cairn.online.materialize`); the query itself (which events count at ``t``,
    the range join, the per-aggregation filter) is written once."""

    quote: Callable[[str], str]
    """Quotes an identifier."""
    order: Callable[[str, str, str], str]
    """An expression ordering events by (event time, created time, sequence)."""
    type_name: Callable[[Dtype], str]
    """The SQL type a dtype's values are cast to."""
    aggregate: Callable[[AggregateFunction, str, str], str]
    """The aggregation library's SQL form of a function over (value, order)."""
    output: Callable[[int, Aggregation], str]
    """The column of the ``i``-th aggregation of a window relation."""
    state: Callable[[AggregateFunction, str, str], str]
    """The library's SQL of a function's partial state over (value, order): hop tiles."""
    literal: Callable[[str], str]
    """A string literal."""


DUCKDB = WindowDialect(
    quote=quote,
    order=lambda ev, cr, seq: f"({ev}, {cr}, {seq})",
    type_name=lambda dtype: dtype.sql,
    aggregate=lambda fn, value, order: fn.sql(value, order),
    output=lambda i, agg: quote(agg.name),
    state=lambda fn, value, order: fn.state_sql(value, order),
    literal=literal,
)
"""The DuckDB engine's dialect (the default)."""


def window_start(t: str, agg: Aggregation) -> str:
    """SQL for the first event time counted at ``t``: ``floor(t, hop) - window``."""
    hop = agg.hop_us
    if hop == 0:
        return f"({t} - {agg.window_us})"
    return f"({t} - ((({t} % {hop}) + {hop}) % {hop}) - {agg.window_us})"


def window_cte(
    view: FeatureView,
    source_view: str,
    aggregations: Sequence[Aggregation],
    source_types: dict[str, Dtype],
    entities: str = "__entities",
    dialect: WindowDialect = DUCKDB,
) -> str:
    """A relation with the join keys, ``__t`` and one column per aggregation
    (``dialect.output``)."""
    q = dialect.quote
    keys = [q(k) for k in view.join_keys]
    q_keys = ", ".join(f"q.{k}" for k in keys)
    starts = [window_start("q.__t", a) for a in aggregations]
    lo = starts[0] if len(starts) == 1 else f"least({', '.join(starts)})"
    on = " AND ".join([f"s.{k} = q.{k}" for k in keys] + [f"s.__ev >= {lo}", "s.__ev < q.__t"])
    if view.source.created_timestamp_column is not None:
        on += " AND s.__cr <= q.__t"
    outputs = []
    for i, (agg, start) in enumerate(zip(aggregations, starts, strict=True)):
        fn = get_function(agg.function)
        col = f"s.{q(agg.column)}"
        present = f"s.__ev >= {start} AND {col} IS NOT NULL"
        if source_types[agg.column] is Dtype.FLOAT64:
            present += f" AND NOT isnan({col})"
        value = f"CASE WHEN {present} THEN {col} END"
        order = f"CASE WHEN {present} THEN {dialect.order('s.__ev', 's.__cr', 's.__seq')} END"
        out = dialect.type_name(fn.output_dtype(source_types[agg.column]))
        aggregate = dialect.aggregate(fn, value, order)
        outputs.append(f"CAST({aggregate} AS {out}) AS {dialect.output(i, agg)}")
    return (
        f"SELECT {q_keys}, q.__t, {', '.join(outputs)} "
        f"FROM (SELECT DISTINCT {', '.join(keys)}, __t FROM {q(entities)}) q "
        f"JOIN {q(source_view)} s ON {on} GROUP BY {q_keys}, q.__t"
    )


def window_join(view: FeatureView, alias: str, dialect: WindowDialect = DUCKDB) -> str:
    """The LEFT JOIN clause attaching ``alias`` (a :func:`window_cte`) to entity rows ``e``."""
    q = dialect.quote
    on = " AND ".join(
        [f"e.{q(k)} = {alias}.{q(k)}" for k in view.join_keys] + [f"e.__t = {alias}.__t"]
    )
    return f"LEFT JOIN {alias} ON {on}"


def window_value(
    alias: str, agg: Aggregation, index: int = 0, dialect: WindowDialect = DUCKDB
) -> str:
    """The output expression of one aggregation (the ``index``-th of its window relation); an
    empty window gives the function's empty value (0 for count and sum, null otherwise)."""
    fn = get_function(agg.function)
    empty = fn.finalize(fn.init())
    value = f"{alias}.{dialect.output(index, agg)}"
    return value if empty is None else f"coalesce({value}, {empty})"
