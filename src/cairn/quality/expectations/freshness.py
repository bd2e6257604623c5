"""Freshness: the age of the newest timestamp of a column."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from cairn.quality.context import CompileContext
from cairn.quality.expectations.base import Expectation, Outcome, Plan, Values
from cairn.quality.expectations.registry import register
from cairn.quality.params import Param
from cairn.quality.severity import Dimension, Layer

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@register
class ExpectDataToBeFresh(Expectation):
    """The newest value of a timestamp column is at most ``max_age`` old (``'36h'``, ``'7d'``,
    or seconds) at the run's time. Naive timestamps need ``timezone`` (e.g. ``UTC``); dates
    count from midnight UTC. Data with no timestamp at all is not fresh."""

    name = "expect_data_to_be_fresh"
    layer = Layer.ML
    dimension = Dimension.TIMELINESS
    params = (
        Param("column", "column", required=True),
        Param("max_age", "duration", required=True),
        Param("timezone", "string"),
    )

    def plan(self, args: Mapping[str, Any], ctx: CompileContext) -> Plan:
        column = args["column"]
        ctx.require(column, ("temporal", "null"), "a timestamp or date column")
        sql_type = ctx.columns[column].upper()
        newest = f"max({ctx.col(column)})"
        if sql_type == "DATE":
            newest = ctx.dialect.epoch_us(ctx.cast(newest, "TIMESTAMP"))
        elif "TIME ZONE" in sql_type or ctx.kind(column) == "null":
            # CAST: DuckDB's epoch_us has no overload for TIMESTAMPTZ_NS
            newest = ctx.dialect.epoch_us(ctx.cast(newest, "TIMESTAMPTZ"))
        elif args["timezone"] is None:
            raise ctx.fail(
                f"column {column!r} holds naive timestamps ({ctx.columns[column]}); declare "
                f"their zone with timezone: UTC (or the zone they were written in)."
            )
        else:
            newest = ctx.dialect.local_epoch_us(ctx.param(args["timezone"]), newest)
        max_age, now = float(args["max_age"]), ctx.now

        def evaluate(v: Values) -> Outcome:
            if v["newest"] is None:
                return Outcome(False, None, message="no timestamps")
            at = _EPOCH + timedelta(microseconds=int(v["newest"]))
            age = (now - at).total_seconds()
            details = {"newest": at.isoformat(), "now": now.isoformat(), "max_age_s": max_age}
            return Outcome(age <= max_age, age, details=details)

        return Plan({"newest": newest}, evaluate)
