"""Drafting a suite from the data: a profile turned into checks a person then edits.

Per column the draft asserts what the data shows now: presence (``not_null``, with ``mostly``
when some values are missing), uniqueness, the observed range of numbers, the set of values of
low-cardinality text, and the shape of identifier-like text (``APP-000123`` ->
``^[A-Za-z]{3}-[0-9]{6}$``); plus the column set and a non-empty table. With a reference
profile it adds a PSI check per profiled column (the ML layer).

Identifier columns (named ``id``, ``*_id``, ``uuid``, ``*_key``...; or integers or text whose
values are all or nearly all distinct, integers densely numbered) get only presence,
uniqueness and their text shape; timestamp columns only presence and freshness. Neither gets a
range, a value set or a drift check: new data moves them by design.

Example
-------
>>> import pandas as pd
>>> frame = pd.DataFrame({"id": ["A-1", "B-2"], "term": [12, 36]})
>>> [c.expectation for c in suggest_suite(frame, name="loans").checks][:4]
['expect_table_columns_to_match_set', 'expect_table_row_count_to_be_between', \
'expect_column_values_to_not_be_null', 'expect_column_values_to_be_unique']
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from cairn.core.timeutil import utcnow
from cairn.quality.check import Check
from cairn.quality.context import CompileContext, column_kind, is_integer, quote
from cairn.quality.data import bind
from cairn.quality.runner import connect
from cairn.quality.spec import Suite

MAX_SET = 20
NEAR_UNIQUE = 0.95
"""Share of distinct values among present ones from which integers or text read as ids."""
_ID_NAME = re.compile(r"(^|_)(id|uuid|guid|key)$")
"""Identifier names, lowercased: ``id``, ``customer_id``, ``uuid``, ``account_key``..."""
_ID_CAMEL = re.compile(r"[a-z0-9](Id|ID|Uuid|UUID|Key)$")
"""camelCase identifier names: ``customerId``, ``orderKey``."""
Role = Literal["identifier", "timestamp"]
_SHAPE = "regexp_replace(regexp_replace({v}, '[A-Za-z]', 'a', 'g'), '[0-9]', '9', 'g')"


def suggest_suite(
    data: Any,
    *,
    name: str = "suggested",
    reference: str | None = None,
    profiled: list[str] | None = None,
    now: datetime | None = None,
) -> Suite:
    """A draft suite for ``data``.

    Parameters
    ----------
    reference:
        Path (as the suite will see it) of a reference profile of this data; adds a PSI check
        for each of ``profiled`` columns (identifier and timestamp columns excepted).
    now:
        The drafting time a timestamp column's freshness is measured from (default: now).
    """
    moment = now or utcnow()
    con = connect()
    try:
        table = bind(con, data)
        ctx = CompileContext.standalone(table.columns, table.relation)
        stats = _stats(con, ctx)
        rows = int(stats.pop("__rows"))
        checks = [
            Check("expect_table_columns_to_match_set", {"column_set": list(ctx.columns)}),
            Check("expect_table_row_count_to_be_between", {"min_value": 1}, severity="high"),
        ]
        roles = {
            c: column_role(c, ctx.columns[c], stats, list(ctx.columns).index(c))
            for c in ctx.columns
        }
        for column in ctx.columns:
            checks.extend(_column_checks(con, ctx, column, stats, rows, roles[column], moment))
    finally:
        con.close()
    for column in [c for c in profiled or [] if roles.get(c) is None]:
        checks.append(
            Check(
                "expect_column_psi_to_be_less_than",
                {"column": column, "reference": reference, "threshold": 0.25},
                severity="medium",
            )
        )
    return Suite(name, checks, description=f"Drafted from {table.label} ({rows} rows).")


def _stats(con: Any, ctx: CompileContext) -> dict[str, Any]:
    exprs = ["count(*) AS __rows"]
    for i, c in enumerate(ctx.columns):
        kind, present = ctx.kind(c), ctx.present(c)
        exprs.append(f"count_if({present}) AS n{i}")
        if kind in ("numeric", "string", "temporal", "bool"):
            exprs.append(f"count(DISTINCT {quote(c)}) FILTER (WHERE {present}) AS d{i}")
        if kind == "numeric":
            v = ctx.number(c)
            exprs.append(f"min({v}) AS lo{i}, max({v}) AS hi{i}")
        if kind == "string":
            shape = _SHAPE.format(v=quote(c))
            exprs.append(f"count(DISTINCT {shape}) AS s{i}, any_value({shape}) AS sv{i}")
        if kind == "temporal":
            newest = f"max({quote(c)})"
            if "TIME ZONE" not in ctx.columns[c].upper():
                newest = f"CAST({newest} AS TIMESTAMP)"
            exprs.append(f"epoch_us({newest}) AS t{i}")
    cursor = con.execute(f"SELECT {', '.join(exprs)} FROM {ctx.relation}")
    (row,) = cursor.fetchall()
    names = [d[0] for d in cursor.description]
    return dict(zip(names, row, strict=True))


def column_role(name: str, sql_type: str, stats: dict[str, Any], i: int) -> Role | None:
    """Whether a column holds identifiers or timestamps (None: neither), from its name, type
    and profile (``stats`` of :func:`_stats`, column index ``i``).

    Example
    -------
    >>> numbered = {"n0": 100, "d0": 100, "lo0": 1, "hi0": 100}
    >>> column_role("customer_id", "DOUBLE", {"n0": 3, "d0": 2}, 0)
    'identifier'
    >>> column_role("n", "BIGINT", numbered, 0), column_role("paid", "BIGINT", {}, 0)
    ('identifier', None)
    >>> column_role("income", "DOUBLE", numbered, 0), column_role("t", "TIMESTAMP", {}, 0)
    (None, 'timestamp')
    """
    kind = column_kind(sql_type)
    if kind == "temporal":
        return "timestamp"
    if kind not in ("numeric", "string"):
        return None
    if _ID_NAME.search(name.lower()) or _ID_CAMEL.search(name):
        return "identifier"
    present, distinct = int(stats.get(f"n{i}") or 0), int(stats.get(f"d{i}") or 0)
    if present <= MAX_SET or distinct < NEAR_UNIQUE * present:
        return None
    if kind == "string":
        return "identifier"
    lo, hi = stats.get(f"lo{i}"), stats.get(f"hi{i}")
    if is_integer(sql_type) and lo is not None and hi is not None:
        return "identifier" if float(hi) - float(lo) + 1 <= 2 * present else None
    return None


def _column_checks(
    con: Any,
    ctx: CompileContext,
    column: str,
    stats: dict[str, Any],
    rows: int,
    role: Role | None = None,
    now: datetime | None = None,
) -> list[Check]:
    i = list(ctx.columns).index(column)
    present, distinct = int(stats[f"n{i}"]), stats.get(f"d{i}")
    kind = ctx.kind(column)
    out: list[Check] = []
    if rows and present == rows:
        out.append(Check("expect_column_values_to_not_be_null", {"column": column}))
    elif present:
        mostly = math.floor(100 * present / rows * 0.98) / 100
        out.append(
            Check(
                "expect_column_values_to_not_be_null",
                {"column": column, "mostly": mostly},
                severity="medium",
            )
        )
    if role == "timestamp":
        return out + _freshness(ctx, column, stats.get(f"t{i}"), now)
    unique = distinct is not None and present > 1 and distinct == present
    if unique and kind != "bool":
        out.append(Check("expect_column_values_to_be_unique", {"column": column}))
    elif role == "identifier":
        pass  # a set of ids (or a range) only describes today's data
    elif kind == "string" and distinct is not None and 0 < distinct <= MAX_SET:
        values = con.execute(
            f"SELECT DISTINCT {quote(column)} FROM {ctx.relation} "
            f"WHERE {quote(column)} IS NOT NULL ORDER BY 1"
        ).fetchall()
        out.append(
            Check(
                "expect_column_values_to_be_in_set",
                {"column": column, "value_set": [v for (v,) in values]},
                severity="high",
            )
        )
    if kind == "numeric" and stats.get(f"lo{i}") is not None and role is None:
        lo, hi = _number(stats[f"lo{i}"]), _number(stats[f"hi{i}"])
        out.append(
            Check(
                "expect_column_values_to_be_between",
                {"column": column, "min_value": lo, "max_value": hi},
                severity="medium",
            )
        )
    if kind == "string" and stats.get(f"s{i}") == 1 and (distinct or 0) > MAX_SET:
        out.append(
            Check(
                "expect_column_values_to_match_regex",
                {"column": column, "regex": shape_regex(str(stats[f"sv{i}"]))},
                severity="high",
            )
        )
    return out


def _freshness(ctx: CompileContext, column: str, newest: Any, now: datetime | None) -> list[Check]:
    """A freshness check whose allowance covers the data's age today, rounded up to whole
    days with a day to spare (tighten it to the data's real cadence)."""
    if newest is None or now is None:
        return []
    age = now - (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(newest)))
    days = max(1, math.ceil(age.total_seconds() / 86400) + 1)
    kwargs: dict[str, Any] = {"column": column, "max_age": f"{days}d"}
    sql_type = ctx.columns[column].upper()
    if sql_type != "DATE" and "TIME ZONE" not in sql_type:
        kwargs["timezone"] = "UTC"  # naive timestamps: say which zone they are in
    return [Check("expect_data_to_be_fresh", kwargs, severity="medium")]


def shape_regex(shape: str) -> str:
    """An anchored regex for a shape (``a`` letter, ``9`` digit, other characters literal).

    Example
    -------
    >>> shape_regex("aaa-999999")
    '^[A-Za-z]{3}-[0-9]{6}$'
    """
    parts = []
    for m in re.finditer(r"(a+|9+|[^a9]+)", shape):
        run = m.group(0)
        if run[0] == "a":
            parts.append("[A-Za-z]" + (f"{{{len(run)}}}" if len(run) > 1 else ""))
        elif run[0] == "9":
            parts.append("[0-9]" + (f"{{{len(run)}}}" if len(run) > 1 else ""))
        else:
            parts.append(re.sub(r"([.^$*+?()\[\]{}|\\])", r"\\\1", run))
    return "^" + "".join(parts) + "$"


def _number(value: Any) -> float | int:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return int(value) if isinstance(value, int) else float(value)
