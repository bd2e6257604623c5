"""Uniqueness: unique values, unique combinations of columns, the share of distinct values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cairn.quality.context import CompileContext
from cairn.quality.expectations.base import (
    BETWEEN_PARAMS,
    Expectation,
    Outcome,
    Plan,
    Values,
    check_bounds,
    within,
)
from cairn.quality.expectations.registry import register
from cairn.quality.expectations.table import distinct_count, distinct_plan
from cairn.quality.params import Param
from cairn.quality.severity import Dimension, Layer

IGNORE_ALL = ("all_values_are_missing", "any_value_is_missing", "never")


@register
class ExpectColumnValuesToBeUnique(Expectation):
    """No present value repeats; every copy of a repeated value counts as unexpected."""

    name = "expect_column_values_to_be_unique"
    layer = Layer.SCHEMA
    dimension = Dimension.UNIQUENESS
    params = (Param("column", "column", required=True), Param("mostly", "fraction", default=1.0))

    def range_columns(self, args: Mapping[str, Any]) -> list[str]:
        return [args["column"]]

    def plan(self, args: Mapping[str, Any], ctx: CompileContext) -> Plan:
        column = args["column"]
        present = ctx.present(column)
        return distinct_plan(ctx, [column], present, args["mostly"], nulls_considered=False)


@register
class ExpectCompoundColumnsToBeUnique(Expectation):
    """No combination of ``column_list`` values repeats (rows where all are missing are
    ignored by default, as in Great Expectations)."""

    name = "expect_compound_columns_to_be_unique"
    layer = Layer.SCHEMA
    dimension = Dimension.UNIQUENESS
    params = (
        Param("column_list", "columns", required=True),
        Param("ignore_row_if", "string", default=IGNORE_ALL[0], choices=IGNORE_ALL),
        Param("mostly", "fraction", default=1.0),
    )

    def range_columns(self, args: Mapping[str, Any]) -> list[str]:
        return list(args["column_list"])

    def plan(self, args: Mapping[str, Any], ctx: CompileContext) -> Plan:
        columns = args["column_list"]
        considered = considered_rows(ctx, columns, args["ignore_row_if"])
        return distinct_plan(ctx, columns, considered, args["mostly"])


def considered_rows(ctx: CompileContext, columns: list[str], ignore_row_if: str) -> str:
    """SQL true for the rows a multicolumn check looks at, per Great Expectations'
    ``ignore_row_if`` (``all_values_are_missing``/``both_values_are_missing``,
    ``any_value_is_missing``/``either_value_is_missing``, ``never``/``neither``)."""
    if ignore_row_if in ("never", "neither"):
        return "TRUE"
    if ignore_row_if in ("any_value_is_missing", "either_value_is_missing"):
        return "(" + " AND ".join(ctx.present(c) for c in columns) + ")"
    return "(" + " OR ".join(ctx.present(c) for c in columns) + ")"


@register
class ExpectColumnProportionOfUniqueValuesToBeBetween(Expectation):
    """Distinct present values / present values lies between the bounds."""

    name = "expect_column_proportion_of_unique_values_to_be_between"
    layer = Layer.STATISTICAL
    dimension = Dimension.UNIQUENESS
    params = (Param("column", "column", required=True), *BETWEEN_PARAMS)

    def check_args(self, args: Mapping[str, Any], owner: str) -> None:
        check_bounds(args, owner)

    def range_columns(self, args: Mapping[str, Any]) -> list[str]:
        return [args["column"]]

    def plan(self, args: Mapping[str, Any], ctx: CompileContext) -> Plan:
        column = args["column"]
        present = ctx.present(column)
        distinct, exact = distinct_count(ctx, [column], present, nulls_considered=False)
        if not exact:
            distinct = f"count(DISTINCT {ctx.col(column)}) FILTER (WHERE {present})"
        aggregates = {"considered": f"count_if({present})", "distinct": distinct}

        def evaluate(v: Values) -> Outcome:
            n = int(v["considered"] or 0)
            if n == 0:
                return Outcome(False, None, message="no present values")
            share = int(v["distinct"]) / n
            bounds = (args["min_value"], args["max_value"], args["strict_min"], args["strict_max"])
            return Outcome(within(share, *bounds), share)

        return Plan(aggregates, evaluate)
