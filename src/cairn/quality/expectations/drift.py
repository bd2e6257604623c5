"""Distribution checks against a stored reference profile: PSI and label-rate stability.

Both read a reference profile (JSON written by :func:`cairn.quality.profile_reference`;
a path relative to the suite file) and count the current data's bins in the suite's one
aggregate query; the PSI itself is :func:`cairn.quality.psi.psi`.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

from cairn.quality.context import CompileContext
from cairn.quality.expectations.base import Expectation, Outcome, Plan, Values
from cairn.quality.expectations.registry import register
from cairn.quality.expectations.values import in_set_terms
from cairn.quality.params import Param
from cairn.quality.psi import EPSILON, band, psi
from cairn.quality.severity import Dimension, Layer


def column_profile(ctx: CompileContext, profile: Mapping[str, Any], column: str) -> dict[str, Any]:
    """The reference profile of one column, or a SuiteError listing the profiled columns."""
    columns = profile.get("columns") or {}
    if column not in columns:
        raise ctx.fail(
            f"the reference profile has no column {column!r}; it profiles "
            f"{', '.join(columns) or 'no columns'}."
        )
    found: dict[str, Any] = columns[column]
    return found


@register
class ExpectColumnPsiToBeLessThan(Expectation):
    """PSI of the column against its reference profile is below ``threshold`` (default 0.25:
    the drift band). Bins, epsilon and edges come from the profile (DESIGN §3.5)."""

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
        profile = ctx.profile(args["reference"])
        ref = column_profile(ctx, profile, column)
        eps = float(profile.get("epsilon", EPSILON))
        aggregates: dict[str, str] = {}
        if ref["type"] == "numeric":
            kind = ctx.require(column, ("numeric", "string", "bool", "null"), "a numeric column")
            value = ctx.number(column) if kind != "null" else "CAST(NULL AS DOUBLE)"
            aggregates["present"] = f"count({value})"
            for j, edge in enumerate(ref["edges"]):
                aggregates[f"b{j}"] = f"count_if({value} < {ctx.param(float(edge))})"
            expected = [*ref["proportions"], ref["missing"]]
            labels = _numeric_labels(ref["edges"])
        else:
            aggregates["present"] = f"count_if({ctx.present(column)})"
            for j, category in enumerate(ref["categories"]):
                aggregates[f"b{j}"] = f"count_if({ctx.text(column)} = {ctx.param(category)})"
            expected = [*ref["proportions"], ref["unseen"], ref["missing"]]
            labels = [*ref["categories"], "(unseen)"]
        threshold = args["threshold"]
        numeric = ref["type"] == "numeric"

        def evaluate(v: Values) -> Outcome:
            rows = int(v["__rows"])
            if rows == 0:
                return Outcome(False, None, message="no rows to compare")
            present = int(v["present"] or 0)
            counts = [int(v[f"b{j}"] or 0) for j in range(len(labels) - 1)]
            if numeric:  # cumulative counts below each edge -> counts per bin
                cumulative = [0, *counts, present]
                bins = [b - a for a, b in itertools.pairwise(cumulative)]
            else:
                bins = [*counts, present - sum(counts)]
            actual = [c / rows for c in [*bins, rows - present]]
            value = psi(expected, actual, eps)
            details = {
                "band": band(value),
                "bins": [*labels, "(missing)"],
                "expected": expected,
                "actual": actual,
            }
            return Outcome(value < threshold, value, details=details)

        return Plan(aggregates, evaluate)


def _numeric_labels(edges: list[float]) -> list[str]:
    bounds = ["-inf", *(f"{e:.6g}" for e in edges), "+inf"]
    return [f"[{a}, {b})" for a, b in itertools.pairwise(bounds)]


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
            label = ctx.profile(args["reference"]).get("label") or {}
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
