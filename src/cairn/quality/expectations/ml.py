"""Checks for training data: train/test leakage and feature-label correlation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cairn.quality.context import CompileContext, column_kind, quote
from cairn.quality.expectations.base import Expectation, Outcome, Plan, Values, row_level
from cairn.quality.expectations.registry import register
from cairn.quality.expectations.values import in_set_terms
from cairn.quality.params import Param
from cairn.quality.severity import Dimension, Layer


@register
class ExpectNoTrainTestLeakage(Expectation):
    """No test row shares its keys (``column_list``; default: every column, i.e. identical
    rows) with a training row.

    Either the data holds both splits in ``split_column`` (``train_value``/``test_value``;
    the test rows are checked), or ``other`` names the other split (a reference name or a
    path) and every row of the data is checked against it. Keys compare null-safely.
    """

    name = "expect_no_train_test_leakage"
    layer = Layer.ML
    dimension = Dimension.UNIQUENESS
    params = (
        Param("column_list", "columns"),
        Param("split_column", "column"),
        Param("train_value", "scalar", default="train"),
        Param("test_value", "scalar", default="test"),
        Param("other", "string"),
    )

    def columns(self, args: Mapping[str, Any]) -> list[str]:
        return [
            *(args["column_list"] or []),
            *([args["split_column"]] * bool(args["split_column"])),
        ]

    def check_args(self, args: Mapping[str, Any], owner: str) -> None:
        from cairn.quality.errors import SuiteError

        if (args["split_column"] is None) == (args["other"] is None):
            raise SuiteError(f"{owner}: give exactly one of 'split_column' and 'other'.")
        if args["split_column"] in (args["column_list"] or []):
            raise SuiteError(f"{owner}: the split column cannot be one of the keys.")

    def plan(self, args: Mapping[str, Any], ctx: CompileContext) -> Plan:
        split = args["split_column"]
        keys = args["column_list"] or [c for c in ctx.columns if c != split]
        if split is not None:
            value, (train,) = in_set_terms(ctx, split, [args["train_value"]])
            _, (test,) = in_set_terms(ctx, split, [args["test_value"]])
            mine = theirs = ctx.dialect.pack({k: ctx.col(k) for k in keys})
            lookup = f"SELECT {theirs} FROM {ctx.relation} WHERE {value} = {train}"
            considered = f"coalesce({value} = {test}, FALSE)"
        else:
            relation, columns = ctx.table(args["other"])
            absent = [k for k in keys if k not in columns]
            if absent:
                raise ctx.fail(f"table {args['other']!r} has no column {absent[0]!r}.")
            same = all(ctx.kind(k) == column_kind(columns[k]) for k in keys)
            mine = ctx.dialect.pack({k: ctx.col(k) if same else ctx.text(k) for k in keys})
            theirs = ctx.dialect.pack(
                {k: quote(k) if same else ctx.cast(quote(k), "VARCHAR") for k in keys}
            )
            lookup = f"SELECT {theirs} FROM {relation}"
            considered = "TRUE"
        shown = tuple([*keys, *([split] if split else [])])
        return row_level(
            ctx, None, f"{mine} IN ({lookup})", mostly=1.0, considered=considered, columns=shown
        )


@register
class ExpectFeatureLabelCorrelationToBeBelow(Expectation):
    """|Pearson correlation| of a feature with the label is below ``threshold``: a feature
    that nearly equals the label usually leaks it. Undefined correlation (a constant column,
    fewer than two rows) passes."""

    name = "expect_feature_label_correlation_to_be_below"
    layer = Layer.ML
    dimension = Dimension.CONSISTENCY
    params = (
        Param("column", "column", required=True),
        Param("label_column", "column", required=True),
        Param("threshold", "fraction", default=0.9),
    )

    def plan(self, args: Mapping[str, Any], ctx: CompileContext) -> Plan:
        column, label = args["column"], args["label_column"]
        for c in (column, label):
            ctx.require(c, ("numeric", "bool", "string", "null"), "a numeric or boolean column")
        x = ctx.number(column) if ctx.kind(column) != "null" else "CAST(NULL AS DOUBLE)"
        y = ctx.number(label) if ctx.kind(label) != "null" else "CAST(NULL AS DOUBLE)"
        aggregates = {
            "r": f"corr({x}, {y})",
            "pairs": f"count_if({x} IS NOT NULL AND {y} IS NOT NULL)",
        }
        threshold = args["threshold"]

        def evaluate(v: Values) -> Outcome:
            r = v["r"]
            pairs = int(v["pairs"] or 0)
            if r is None or r != r:  # NaN: a constant column
                return Outcome(True, None, details={"pairs": pairs}, message="undefined")
            return Outcome(abs(float(r)) < threshold, float(r), details={"pairs": pairs})

        return Plan(aggregates, evaluate)
