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

    def plan(self, args: Mapping[str, Any], ctx: CompileContext) -> Plan:
        columns = args["column_list"] or list(ctx.columns)
        return distinct_plan(ctx, columns, "TRUE", args["mostly"])


def distinct_plan(ctx: CompileContext, columns: list[str], considered: str, mostly: float) -> Plan:
    """A uniqueness check over ``columns``: the aggregate query compares a distinct count of
    row hashes with the row count (a hash collision can only make it look *worse*); when it
    looks worse, the failing-row query counts the rows whose values repeat, exactly."""
    quoted = ", ".join(ctx.col(c) for c in columns)
    aggregates = {
        "considered": f"count_if({considered})",
        "distinct": f"count(DISTINCT hash({quoted})) FILTER (WHERE {considered})",
    }
    copies = ctx.window(f"count(*) OVER (PARTITION BY {quoted})")
    failing = f"({considered}) AND {copies} > 1"

    def evaluate(v: Values) -> Outcome:
        n, distinct = int(v["considered"] or 0), int(v["distinct"] or 0)
        missing = int(v["__rows"]) - n
        if distinct == n:
            return Outcome(True, 0.0, 0, n, missing)
        if "unexpected" not in v:  # decided by the failing-row query
            return Outcome(False, None, None, n, missing)
        bad = int(v["unexpected"])
        return Outcome(mostly_success(n, bad, mostly), bad / n if n else 0.0, bad, n, missing)

    return Plan(aggregates, evaluate, RowFilter(failing, tuple(columns), exact_count=True))
