"""Row-level value checks: not null, between, in set, regex (Great Expectations' names).

Each counts the rows that fail in the suite's one aggregate query; ``mostly`` is the share of
non-missing rows that must pass. Text columns holding numbers written as text (a "mixed"
column) are compared as numbers against numeric bounds: a value that is not a number fails.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from cairn.quality.context import CompileContext
from cairn.quality.expectations.base import (
    BETWEEN_PARAMS,
    Expectation,
    Plan,
    check_bounds,
    row_level,
)
from cairn.quality.expectations.registry import register
from cairn.quality.params import Param
from cairn.quality.severity import Dimension, Layer

COLUMN = Param("column", "column", required=True)
MOSTLY = Param("mostly", "fraction", default=1.0)


@register
class ExpectColumnValuesToNotBeNull(Expectation):
    """Every value (or a ``mostly`` share) is present; NaN counts as missing."""

    name = "expect_column_values_to_not_be_null"
    layer = Layer.SCHEMA
    dimension = Dimension.COMPLETENESS
    params = (COLUMN, MOSTLY)

    def plan(self, args: Mapping[str, Any], ctx: CompileContext) -> Plan:
        column = args["column"]
        return row_level(
            ctx,
            None,
            ctx.missing(column),
            mostly=args["mostly"],
            considered="TRUE",
            columns=(column,),
        )


@register
class ExpectColumnValuesToBeBetween(Expectation):
    """Values lie in ``[min_value, max_value]`` (numbers, dates/times, or text)."""

    name = "expect_column_values_to_be_between"
    layer = Layer.BUSINESS
    dimension = Dimension.VALIDITY
    params = (COLUMN, *BETWEEN_PARAMS, MOSTLY)

    def check_args(self, args: Mapping[str, Any], owner: str) -> None:
        check_bounds(args, owner)

    def plan(self, args: Mapping[str, Any], ctx: CompileContext) -> Plan:
        column = args["column"]
        value, lo, hi = compared(ctx, column, args["min_value"], args["max_value"])
        tests = []
        if lo is not None:
            tests.append(f"{value} {'>' if args['strict_min'] else '>='} {lo}")
        if hi is not None:
            tests.append(f"{value} {'<' if args['strict_max'] else '<='} {hi}")
        return row_level(ctx, column, f"NOT ({' AND '.join(tests)})", mostly=args["mostly"])


def compared(
    ctx: CompileContext, column: str, lo: Any, hi: Any
) -> tuple[str, str | None, str | None]:
    """The column value and the bounds as SQL, compared the way the bounds ask: as numbers
    (text columns parsed), as dates/times (typed like the column), or as text."""
    bounds = [b for b in (lo, hi) if b is not None]
    kind = ctx.kind(column)
    numeric = all(isinstance(b, (int, float)) for b in bounds)
    if kind == "temporal":
        if numeric:
            raise ctx.fail(f"column {column!r} holds dates/times; give bounds as ISO dates/times.")
        cast = ctx.columns[column]
        value = ctx.col(column)
        return value, _temporal(ctx, lo, cast), _temporal(ctx, hi, cast)
    if kind == "null" and not numeric:  # an all-empty column: the bounds declare its type
        if not all(_is_iso(b) for b in bounds):
            return ctx.cast("NULL", "VARCHAR"), _param(ctx, lo), _param(ctx, hi)
        cast = "DATE" if all(len(str(b)) <= 10 for b in bounds) else "TIMESTAMP"
        return ctx.cast("NULL", cast), _temporal(ctx, lo, cast), _temporal(ctx, hi, cast)
    if kind in ("numeric", "null") or (kind == "string" and numeric):
        if not numeric:
            raise ctx.fail(f"column {column!r} is {ctx.columns[column]}; give numeric bounds.")
        value = ctx.number(column) if kind != "null" else "CAST(NULL AS DOUBLE)"
        return value, _param(ctx, lo), _param(ctx, hi)
    if kind == "string" and all(isinstance(b, str) for b in bounds):
        return ctx.col(column), _param(ctx, lo), _param(ctx, hi)
    raise ctx.fail(
        f"column {column!r} is {ctx.columns[column]}; expected a numeric, date/time or text "
        f"column with bounds of the same kind (got {lo!r}, {hi!r})."
    )


def _param(ctx: CompileContext, value: Any) -> str | None:
    return None if value is None else ctx.param(value)


def _is_iso(value: Any) -> bool:
    if isinstance(value, (datetime, date)):
        return True
    try:
        datetime.fromisoformat(str(value))
    except ValueError:
        return False
    return True


def _temporal(ctx: CompileContext, value: Any, cast: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, (datetime, date)):
        value = value.isoformat()
    try:
        datetime.fromisoformat(str(value))
    except ValueError:
        raise ctx.fail(f"bound {value!r} is not an ISO date/time (e.g. 2026-01-31).") from None
    return ctx.param(str(value), cast)


@register
class ExpectColumnValuesToBeInSet(Expectation):
    """Values belong to ``value_set``; compared as text when the set's values do not have the
    column's type."""

    name = "expect_column_values_to_be_in_set"
    layer = Layer.SCHEMA
    dimension = Dimension.VALIDITY
    params = (COLUMN, Param("value_set", "values", required=True), MOSTLY)

    def plan(self, args: Mapping[str, Any], ctx: CompileContext) -> Plan:
        column, values = args["column"], [v for v in args["value_set"] if v is not None]
        if not values:
            return row_level(ctx, column, "TRUE", mostly=args["mostly"])
        value, params = in_set_terms(ctx, column, values)
        return row_level(
            ctx, column, f"NOT ({value} IN ({', '.join(params)}))", mostly=args["mostly"]
        )


def in_set_terms(ctx: CompileContext, column: str, values: list[Any]) -> tuple[str, list[str]]:
    """The column and the set's values as SQL of one comparable type."""
    kind = ctx.kind(column)
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    if kind == "numeric" and numbers:
        return ctx.col(column), [ctx.param(v) for v in values]
    if kind == "bool" and all(isinstance(v, bool) for v in values):
        return ctx.col(column), [ctx.param(v) for v in values]
    if kind == "string" and all(isinstance(v, str) for v in values):
        return ctx.col(column), [ctx.param(v) for v in values]
    if kind == "temporal" and all(isinstance(v, (str, datetime, date)) for v in values):
        cast = ctx.columns[column]
        return ctx.col(column), [ctx.param(_iso(v), cast) for v in values]
    return ctx.text(column), [ctx.param(_text(v)) for v in values]


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, (datetime, date)) else str(value)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _iso(value)


@register
class ExpectColumnValuesToMatchRegex(Expectation):
    """Values contain a match of ``regex`` (RE2 syntax, searched anywhere like ``re.search``;
    anchor with ``^…$``). Non-text columns are matched on their text form."""

    name = "expect_column_values_to_match_regex"
    layer = Layer.SCHEMA
    dimension = Dimension.VALIDITY
    params = (COLUMN, Param("regex", "string", required=True), MOSTLY)

    def plan(self, args: Mapping[str, Any], ctx: CompileContext) -> Plan:
        column = args["column"]
        pattern = ctx.param(args["regex"])
        ctx.check_regex(args["regex"])
        return row_level(
            ctx,
            column,
            f"NOT {ctx.dialect.regex(ctx.text(column), pattern)}",
            mostly=args["mostly"],
        )
