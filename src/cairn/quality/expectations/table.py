"""Table-level checks: columns present, the column set, row count, duplicate rows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cairn.quality.context import CompileContext
from cairn.quality.expectations.base import (
    Expectation,
    Outcome,
    Plan,
    RowFilter,
    Values,
    check_bounds,
    mostly_success,
    within,
)
from cairn.quality.expectations.registry import register
from cairn.quality.params import Param
from cairn.quality.severity import Dimension, Layer


@register
class ExpectColumnToExist(Expectation):
    """The column exists (at ``column_index``, 0-based, when given)."""

    name = "expect_column_to_exist"
    layer = Layer.SCHEMA
    dimension = Dimension.COMPLETENESS
    params = (Param("column", "column", required=True), Param("column_index", "count"))
    schema_check = True

    def plan(self, args: Mapping[str, Any], ctx: CompileContext) -> Plan:
        column, index = args["column"], args["column_index"]
        names = list(ctx.columns)

        def evaluate(_: Values) -> Outcome:
            if column not in ctx.columns:
                return Outcome(False, False, message=f"no column {column!r}")
            at = names.index(column)
            if index is not None and at != index:
                return Outcome(False, at, message=f"{column!r} is column {at}, not {index}")
            return Outcome(True, at if index is not None else True)

        return Plan({}, evaluate)


@register
class ExpectTableColumnsToMatchSet(Expectation):
    """The table's columns are exactly ``column_set`` (or include it, ``exact_match: false``)."""

    name = "expect_table_columns_to_match_set"
    layer = Layer.SCHEMA
    dimension = Dimension.VALIDITY
    params = (
        Param("column_set", "columns", required=True),
        Param("exact_match", "bool", default=True),
    )
    schema_check = True

    def columns(self, args: Mapping[str, Any]) -> list[str]:
        return []

    def plan(self, args: Mapping[str, Any], ctx: CompileContext) -> Plan:
        expected, actual = set(args["column_set"]), list(ctx.columns)
        missing = sorted(expected - set(actual))
        extra = [c for c in actual if c not in expected]
        ok = not missing and (not extra or not args["exact_match"])

        def evaluate(_: Values) -> Outcome:
            details = {"missing": missing, "unexpected": extra if args["exact_match"] else []}
            return Outcome(ok, actual, details=details)

        return Plan({}, evaluate)


@register
class ExpectTableRowCountToBeBetween(Expectation):
    """The number of rows lies between the bounds."""

    name = "expect_table_row_count_to_be_between"
    layer = Layer.STATISTICAL
    dimension = Dimension.COMPLETENESS
    params = (
        Param("min_value", "count", nullable=True),
        Param("max_value", "count", nullable=True),
        Param("strict_min", "bool", default=False),
        Param("strict_max", "bool", default=False),
    )

    def check_args(self, args: Mapping[str, Any], owner: str) -> None:
        check_bounds(args, owner)

    def plan(self, args: Mapping[str, Any], ctx: CompileContext) -> Plan:
        def evaluate(v: Values) -> Outcome:
            rows = int(v["__rows"])
            bounds = (args["min_value"], args["max_value"], args["strict_min"], args["strict_max"])
            return Outcome(within(rows, *bounds), rows)

        return Plan({}, evaluate)


@register
class ExpectTableRowsToBeUnique(Expectation):
    """No row repeats another (over ``column_list``, default every column). Cairn's name:
    Great Expectations has no core expectation for duplicate rows. Every copy of a repeated
    row counts as unexpected."""

    name = "expect_table_rows_to_be_unique"
    layer = Layer.BUSINESS
    dimension = Dimension.UNIQUENESS
    params = (Param("column_list", "columns"), Param("mostly", "fraction", default=1.0))

    def range_columns(self, args: Mapping[str, Any]) -> list[str]:
        return list(args["column_list"] or [])

    def plan(self, args: Mapping[str, Any], ctx: CompileContext) -> Plan:
        columns = args["column_list"] or list(ctx.columns)
        return distinct_plan(ctx, columns, "TRUE", args["mostly"])


BITMAP_BITS = 1 << 27
"""Largest bitmap (bits, 16 MB) a uniqueness check may use to count distinct integers."""
_BITMAP_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER")


def distinct_count(
    ctx: CompileContext, columns: list[str], considered: str, *, nulls_considered: bool
) -> tuple[str, bool]:
    """SQL counting the distinct values (or combinations) of ``columns`` among the considered
    rows, and whether that count is exact.

    Integer columns whose probed ranges multiply to at most :data:`BITMAP_BITS` are counted
    exactly with a bitmap (``bitstring_agg`` over a mixed-radix key: one bit per possible
    combination, a fraction of a hash table's work). Otherwise row hashes are counted: a
    collision can only make the count lower, so a check that passes on it passes for sure.
    """
    ranges = [ctx.int_range(c) for c in columns]
    fits = all(ctx.columns[c].upper() in _BITMAP_TYPES for c in columns)
    known = [r for r in ranges if r is not None and r.size > 0]
    if (
        ctx.dialect.bitmap
        and fits
        and len(known) == len(columns)
        and not (nulls_considered and any(r.nulls for r in known))
    ):
        total = 1
        for r in known:
            total *= r.size
        if total <= BITMAP_BITS:
            terms, stride = [], 1
            for c, r in reversed(list(zip(columns, known, strict=True))):
                terms.append(f"({ctx.col(c)} - {ctx.param(r.low)}) * {ctx.param(stride)}")
                stride *= r.size
            key = " + ".join(reversed(terms))
            bounds = f"{ctx.param(0)}, {ctx.param(total - 1)}"
            bitmap = f"bitstring_agg({key}, {bounds}) FILTER (WHERE {considered})"
            return f"coalesce(bit_count({bitmap}), 0)", True
    if not ctx.dialect.bitmap:  # Spark: distinct structs, exactly (nulls equal nulls)
        packed = ctx.dialect.pack({c: ctx.col(c) for c in columns})
        return f"count(DISTINCT {packed}) FILTER (WHERE {considered})", True
    quoted = ", ".join(ctx.col(c) for c in columns)
    return f"count(DISTINCT hash({quoted})) FILTER (WHERE {considered})", False


def distinct_plan(
    ctx: CompileContext,
    columns: list[str],
    considered: str,
    mostly: float,
    *,
    nulls_considered: bool = True,
) -> Plan:
    """A uniqueness check over ``columns``: the aggregate query compares the number of distinct
    values (or combinations; nulls equal nulls) with the number of rows considered; when they
    differ, the failing-row query counts every row whose values repeat, exactly."""
    distinct, _ = distinct_count(ctx, columns, considered, nulls_considered=nulls_considered)
    aggregates = {"considered": f"count_if({considered})", "distinct": distinct}
    if len(columns) == 1 and not nulls_considered:
        key = ctx.col(columns[0])
    else:  # a struct compares null-safely in IN
        key = ctx.dialect.pack({c: ctx.col(c) for c in columns})
    repeated = (
        f"SELECT {key} FROM {ctx.relation} WHERE {considered} GROUP BY ALL HAVING count(*) > 1"
    )
    failing = f"({considered}) AND {key} IN ({repeated})"

    def evaluate(v: Values) -> Outcome:
        n, found = int(v["considered"] or 0), int(v["distinct"] or 0)
        missing = int(v["__rows"]) - n
        if found == n:
            return Outcome(True, 0.0, 0, n, missing)
        if "unexpected" not in v:  # decided by the failing-row query
            return Outcome(False, None, None, n, missing)
        bad = int(v["unexpected"])
        return Outcome(mostly_success(n, bad, mostly), bad / n if n else 0.0, bad, n, missing)

    return Plan(aggregates, evaluate, RowFilter(failing, tuple(columns), exact_count=True))
