"""Checks across columns and tables: A greater than B, a row sum, values found in another
table (referential integrity)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cairn.quality.context import CompileContext, column_kind, quote
from cairn.quality.expectations.base import Expectation, Plan, row_level
from cairn.quality.expectations.registry import register
from cairn.quality.expectations.uniqueness import considered_rows
from cairn.quality.params import Param
from cairn.quality.severity import Dimension, Layer

MOSTLY = Param("mostly", "fraction", default=1.0)
IGNORE_PAIR = ("both_values_are_missing", "either_value_is_missing", "neither")
IGNORE_MULTI = ("all_values_are_missing", "any_value_is_missing", "never")


@register
class ExpectColumnPairValuesAToBeGreaterThanB(Expectation):
    """``column_A > column_B`` (``>=`` with ``or_equal``) row by row; a row where only one
    value is missing fails, as in Great Expectations."""

    name = "expect_column_pair_values_a_to_be_greater_than_b"
    layer = Layer.BUSINESS
    dimension = Dimension.CONSISTENCY
    params = (
        Param("column_A", "column", required=True),
        Param("column_B", "column", required=True),
        Param("or_equal", "bool", default=False),
        Param("ignore_row_if", "string", default=IGNORE_PAIR[0], choices=IGNORE_PAIR),
        MOSTLY,
    )

    def plan(self, args: Mapping[str, Any], ctx: CompileContext) -> Plan:
        a, b = args["column_A"], args["column_B"]
        kinds = {ctx.kind(a), ctx.kind(b)} - {"null"}
        if len(kinds) > 1 and kinds != {"numeric", "string"}:
            raise ctx.fail(
                f"columns {a!r} ({ctx.columns[a]}) and {b!r} ({ctx.columns[b]}) cannot be "
                f"compared; expected two numeric, two date/time or two text columns."
            )
        if kinds & {"bool", "other"}:
            raise ctx.fail(f"columns {a!r} and {b!r} must be numbers, dates/times or text.")
        if "numeric" in kinds:
            left, right = ctx.number(a), ctx.number(b)
        else:
            left, right = ctx.col(a), ctx.col(b)
        op = ">=" if args["or_equal"] else ">"
        considered = considered_rows(ctx, [a, b], args["ignore_row_if"])
        return row_level(
            ctx,
            None,
            f"NOT ({left} {op} {right})",
            mostly=args["mostly"],
            considered=considered,
            columns=(a, b),
        )


@register
class ExpectMulticolumnSumToEqual(Expectation):
    """In every row, the values of ``column_list`` add up to ``sum_total`` (missing values
    count as 0 in rows that are considered; the comparison is exact, as in Great Expectations)."""

    name = "expect_multicolumn_sum_to_equal"
    layer = Layer.BUSINESS
    dimension = Dimension.CONSISTENCY
    params = (
        Param("column_list", "columns", required=True),
        Param("sum_total", "number", required=True),
        Param("ignore_row_if", "string", default=IGNORE_MULTI[0], choices=IGNORE_MULTI),
        MOSTLY,
    )

    def plan(self, args: Mapping[str, Any], ctx: CompileContext) -> Plan:
        columns = args["column_list"]
        for c in columns:
            ctx.require(c, ("numeric", "string", "bool", "null"), "a numeric column")
        total = " + ".join(
            f"coalesce({ctx.number(c) if ctx.kind(c) != 'null' else 'NULL'}, 0)" for c in columns
        )
        return row_level(
            ctx,
            None,
            f"NOT ({total} = {ctx.param(args['sum_total'])})",
            mostly=args["mostly"],
            considered=considered_rows(ctx, columns, args["ignore_row_if"]),
            columns=tuple(columns),
        )


@register
class ExpectColumnValuesToExistInTable(Expectation):
    """Every present value of ``column`` is found in ``table_column`` (default: the same name)
    of another table: a reference name of the suite or a path to Parquet, CSV or Delta data.
    Numbers written as text compare with numbers as numbers; other mixed types as text.
    Cairn's name (referential integrity); Great Expectations has no core equivalent."""

    name = "expect_column_values_to_exist_in_table"
    layer = Layer.BUSINESS
    dimension = Dimension.CONSISTENCY
    params = (
        Param("column", "column", required=True),
        Param("table", "string", required=True),
        Param("table_column", "column"),
        MOSTLY,
    )

    def plan(self, args: Mapping[str, Any], ctx: CompileContext) -> Plan:
        column = args["column"]
        other_column = args["table_column"] or column
        relation, columns = ctx.table(args["table"])
        if other_column not in columns:
            raise ctx.fail(
                f"table {args['table']!r} has no column {other_column!r}; its columns are "
                f"{', '.join(columns)}."
            )
        mine, theirs = ctx.col(column), quote(other_column)
        kinds = {ctx.kind(column), column_kind(columns[other_column])}
        if kinds == {"numeric", "string"}:  # numbers written as text on one side
            mine, theirs = f"TRY_CAST({mine} AS DOUBLE)", f"TRY_CAST({theirs} AS DOUBLE)"
        elif len(kinds) > 1:
            mine, theirs = ctx.text(column), ctx.cast(theirs, "VARCHAR")
        lookup = f"SELECT {theirs} FROM {relation} WHERE {quote(other_column)} IS NOT NULL"
        return row_level(ctx, column, f"NOT ({mine} IN ({lookup}))", mostly=args["mostly"])
