"""Column statistics: mean, standard deviation, median, quantiles (over present values).

A statistic of a column with no present values is undefined, and the check fails. On a text
column the values are parsed as numbers; any present value that is not a number fails the check
(reported as ``unexpected_count``). The standard deviation is the sample one (n - 1), as in
Great Expectations; the median and quantiles interpolate linearly (numpy's default), where
Great Expectations' pandas backend takes the nearest value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from cairn.quality.context import CompileContext
from cairn.quality.expectations.base import (
    BETWEEN_PARAMS,
    Expectation,
    Outcome,
    Plan,
    RowFilter,
    Values,
    check_bounds,
    within,
)
from cairn.quality.expectations.registry import register
from cairn.quality.params import Param
from cairn.quality.severity import Dimension, Layer

COLUMN = Param("column", "column", required=True)


def statistic_plan(
    ctx: CompileContext,
    column: str,
    aggregate: Callable[[str], str],
    judge: Callable[[Any], Outcome],
) -> Plan:
    """A plan measuring ``aggregate(value)`` over the column's present values."""
    kind = ctx.require(column, ("numeric", "string", "bool", "null"), "a numeric column")
    value = ctx.number(column) if kind != "null" else "CAST(NULL AS DOUBLE)"
    aggregates = {"stat": aggregate(value)}
    rows = None
    if kind == "string":
        failing = f"{ctx.present(column)} AND {value} IS NULL"
        aggregates["unparsed"] = f"count_if({failing})"
        rows = RowFilter(failing, (column,))

    def evaluate(v: Values) -> Outcome:
        unparsed = int(v.get("unparsed") or 0)
        if v["stat"] is None:
            return Outcome(False, None, message="no present numeric values")
        outcome = judge(v["stat"])
        if not unparsed:
            return outcome
        return Outcome(
            False,
            outcome.observed,
            unexpected_count=unparsed,
            details=outcome.details,
            message=f"{unparsed} value(s) are not numbers",
        )

    return Plan(aggregates, evaluate, rows)


class _Between(Expectation):
    """A statistic between ``min_value`` and ``max_value``."""

    layer = Layer.STATISTICAL
    dimension = Dimension.VALIDITY
    params = (COLUMN, *BETWEEN_PARAMS)
    function = ""

    def check_args(self, args: Mapping[str, Any], owner: str) -> None:
        check_bounds(args, owner)
        for key in ("min_value", "max_value"):
            if isinstance(args[key], str):
                raise_bound(owner, key, args[key])

    def plan(self, args: Mapping[str, Any], ctx: CompileContext) -> Plan:
        bounds = (args["min_value"], args["max_value"], args["strict_min"], args["strict_max"])

        def judge(stat: Any) -> Outcome:
            return Outcome(within(float(stat), *bounds), float(stat))

        return statistic_plan(ctx, args["column"], lambda v: f"{self.function}({v})", judge)


def raise_bound(owner: str, key: str, value: Any) -> None:
    """Statistics are numbers: a text bound is a suite error."""
    from cairn.quality.errors import SuiteError

    raise SuiteError(f"{owner}: argument {key!r} must be a number or null; got {value!r}.")


@register
class ExpectColumnMeanToBeBetween(_Between):
    """The mean of the present values lies between the bounds."""

    name = "expect_column_mean_to_be_between"
    function = "avg"


@register
class ExpectColumnStdevToBeBetween(_Between):
    """The sample standard deviation lies between the bounds."""

    name = "expect_column_stdev_to_be_between"
    function = "stddev_samp"


@register
class ExpectColumnMedianToBeBetween(_Between):
    """The median lies between the bounds."""

    name = "expect_column_median_to_be_between"
    function = "median"


@register
class ExpectColumnQuantileValuesToBeBetween(Expectation):
    """Each quantile in ``quantile_ranges.quantiles`` lies in its ``value_ranges`` pair
    (null: unbounded); ``allow_relative_error`` is accepted and ignored (quantiles are exact)."""

    name = "expect_column_quantile_values_to_be_between"
    layer = Layer.STATISTICAL
    dimension = Dimension.VALIDITY
    params = (
        COLUMN,
        Param("quantile_ranges", "quantile_ranges", required=True),
        Param("allow_relative_error", "bool", default=False),
    )

    def plan(self, args: Mapping[str, Any], ctx: CompileContext) -> Plan:
        quantiles = args["quantile_ranges"]["quantiles"]
        ranges = args["quantile_ranges"]["value_ranges"]
        wanted = ctx.param(quantiles)

        def judge(stat: Any) -> Outcome:
            values = [float(x) for x in stat]
            ok = all(within(x, lo, hi) for x, (lo, hi) in zip(values, ranges, strict=True))
            return Outcome(ok, {"quantiles": quantiles, "values": values})

        quantile = ctx.dialect.quantiles
        return statistic_plan(ctx, args["column"], lambda v: quantile(v, wanted), judge)
