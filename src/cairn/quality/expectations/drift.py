"""Distribution checks against a stored reference profile: PSI and label-rate stability.

Both read a reference profile (:mod:`cairn.profiles`, written by
:func:`cairn.quality.profile_reference` or by training; a path relative to the suite file) and
count the current data's bins in the suite's one aggregate query: for a numeric column the
values below each of the profile's bin cuts (``count_if(x < cut)``, the bins' one closure), for
a categorical one the rows of each category. The bins, their counts and the PSI are
:mod:`cairn.profiles`' own, so a suite and monitoring give the same PSI for the same data and
profile.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from cairn.core.errors import DataError
from cairn.profiles import ColumnReference, NumericReference, ReferenceProfile, band, psi
from cairn.quality.context import CompileContext
from cairn.quality.expectations.base import Expectation, Outcome, Plan, Values
from cairn.quality.expectations.registry import register
from cairn.quality.expectations.values import in_set_terms
from cairn.quality.params import Param
from cairn.quality.severity import Dimension, Layer


def column_profile(
    ctx: CompileContext, profile: Mapping[str, Any], column: str
) -> tuple[ReferenceProfile, ColumnReference]:
    """The reference profile and one column's reference, or a SuiteError listing the
    profiled columns."""
    try:
        read = ReferenceProfile.from_dict(profile)
        return read, read.column(column)
    except DataError as exc:
        raise ctx.fail(str(exc)) from None


@register
class ExpectColumnPsiToBeLessThan(Expectation):
    """PSI of the column against its reference profile is below ``threshold`` (default 0.25:
    the drift band). Bins, epsilon and counts come from the profile (DESIGN §3.5)."""

    name = "expect_column_psi_to_be_less_than"
    layer = Layer.ML
    dimension = Dimension.CONSISTENCY
    params = (
        Param("column", "column", required=True),
        Param("reference", "string", required=True),
        Param("threshold", "positive", default=0.25),
    )

    def plan(self, args: Mapping[str, Any], ctx: CompileContext) -> Plan:
        column = args["column"]
        profile, ref = column_profile(ctx, ctx.profile(args["reference"]), column)
        aggregates: dict[str, str] = {}
        if isinstance(ref, NumericReference):
            kind = ctx.require(column, ("numeric", "string", "bool", "null"), "a numeric column")
            value = "NULL" if kind == "null" else ctx.number(column)
            value = f"CAST({value} AS DOUBLE)"
            op = "<" if ref.binning.closed == "left" else "<="
            aggregates["present"] = f"count({value})"
            for j, cut in enumerate(ref.binning.cuts):
                aggregates[f"b{j}"] = f"count_if({value} {op} {ctx.param(float(cut))})"
            cuts = ref.binning.cuts.size
        else:
            aggregates["present"] = f"count_if({ctx.present(column)})"
            for j, category in enumerate(ref.categories):
                aggregates[f"b{j}"] = f"count_if({ctx.text(column)} = {ctx.param(category)})"
            cuts = len(ref.categories)
        expected = ref.shares()
        threshold, eps = args["threshold"], profile.epsilon

        def evaluate(v: Values) -> Outcome:
            rows = int(v["__rows"])
            if rows == 0:
                return Outcome(False, None, message="no rows to compare")
            present = int(v["present"] or 0)
            below = [int(v[f"b{j}"] or 0) for j in range(cuts)]
            if isinstance(ref, NumericReference):
                counts = ref.binning.from_cumulative(below, present)
            else:
                counts = np.asarray([*below, present - sum(below)])
            actual = np.append(counts, rows - present) / rows
            value = psi(expected, actual, eps)
            details = {
                "band": band(value),
                "bins": ref.labels(),
                "expected": expected.tolist(),
                "actual": actual.tolist(),
            }
            return Outcome(value < threshold, value, details=details)

        return Plan(aggregates, evaluate)


@register
class ExpectLabelRateToBeStable(Expectation):
    """The share of ``positive_value`` among present labels is within ``max_delta`` (absolute)
    of the reference rate: ``reference_rate``, or the label rate stored in a ``reference``
    profile."""

    name = "expect_label_rate_to_be_stable"
    layer = Layer.ML
    dimension = Dimension.CONSISTENCY
    params = (
        Param("column", "column", required=True),
        Param("reference", "string"),
        Param("reference_rate", "fraction"),
        Param("max_delta", "fraction", default=0.05),
        Param("positive_value", "scalar", default=1),
    )

    def check_args(self, args: Mapping[str, Any], owner: str) -> None:
        from cairn.quality.errors import SuiteError

        if (args["reference"] is None) == (args["reference_rate"] is None):
            raise SuiteError(f"{owner}: give exactly one of 'reference' and 'reference_rate'.")

    def plan(self, args: Mapping[str, Any], ctx: CompileContext) -> Plan:
        column = args["column"]
        rate = args["reference_rate"]
        if rate is None:
            try:
                label = ReferenceProfile.from_dict(ctx.profile(args["reference"])).label or {}
            except DataError as exc:
                raise ctx.fail(str(exc)) from None
            if label.get("column") != column or label.get("rate") is None:
                raise ctx.fail(
                    f"the reference profile holds no label rate for {column!r} (profile it "
                    f"with profile_reference(..., label={column!r}))."
                )
            rate = float(label["rate"])
        value, (positive,) = in_set_terms(ctx, column, [args["positive_value"]])
        present = ctx.present(column)
        aggregates = {
            "present": f"count_if({present})",
            "positive": f"count_if({present} AND {value} = {positive})",
        }
        max_delta = args["max_delta"]

        def evaluate(v: Values) -> Outcome:
            n = int(v["present"] or 0)
            if n == 0:
                return Outcome(False, None, message="no labels present")
            current = int(v["positive"] or 0) / n
            delta = current - rate
            details = {"reference_rate": rate, "delta": delta, "labels": n}
            return Outcome(abs(delta) <= max_delta, current, details=details)

        return Plan(aggregates, evaluate)
