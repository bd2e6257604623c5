"""Drafting a suite from the data: a profile turned into checks a person then edits.

Per column the draft asserts what the data shows now: presence (``not_null``, with ``mostly``
when some values are missing), uniqueness, the observed range of numbers, the set of values of
low-cardinality text, and the shape of identifier-like text (``APP-000123`` ->
``^[A-Za-z]{3}-[0-9]{6}$``); plus the column set and a non-empty table. With a reference
profile it adds a PSI check per profiled column (the ML layer).

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
from typing import Any

from cairn.quality.check import Check
from cairn.quality.context import CompileContext, quote
from cairn.quality.data import bind
from cairn.quality.runner import connect
from cairn.quality.spec import Suite

MAX_SET = 20
_SHAPE = "regexp_replace(regexp_replace({v}, '[A-Za-z]', 'a', 'g'), '[0-9]', '9', 'g')"


def suggest_suite(
    data: Any,
    *,
    name: str = "suggested",
    reference: str | None = None,
    profiled: list[str] | None = None,
) -> Suite:
    """A draft suite for ``data``.

    Parameters
    ----------
    reference:
        Path (as the suite will see it) of a reference profile of this data; adds a PSI check
        for each of ``profiled`` columns.
    """
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
        for column in ctx.columns:
            checks.extend(_column_checks(con, ctx, column, stats, rows))
    finally:
        con.close()
    for column in profiled or []:
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
    cursor = con.execute(f"SELECT {', '.join(exprs)} FROM {ctx.relation}")
    (row,) = cursor.fetchall()
    names = [d[0] for d in cursor.description]
    return dict(zip(names, row, strict=True))


def _column_checks(
    con: Any, ctx: CompileContext, column: str, stats: dict[str, Any], rows: int
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
    if distinct is not None and present > 1 and distinct == present and kind != "bool":
        out.append(Check("expect_column_values_to_be_unique", {"column": column}))
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
    if kind == "numeric" and stats.get(f"lo{i}") is not None:
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
