"""One aggregate query per suite, one more only when a row-level check fails."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cairn.quality import Check, Suite, validate
from cairn.quality.compiler import compile_suite, failing_rows_query
from cairn.quality.context import CompileContext
from cairn.quality.data import bind
from cairn.quality.runner import connect


def twenty_checks() -> list[Check]:
    return [
        Check("expect_table_columns_to_match_set", {"column_set": ["id", "a", "b", "c"]}),
        Check("expect_table_row_count_to_be_between", {"min_value": 1}),
        *(Check("expect_column_values_to_not_be_null", {"column": c}) for c in "abc"),
        Check("expect_column_values_to_be_unique", {"column": "id"}),
        Check("expect_column_values_to_be_between", {"column": "a", "min_value": 0}),
        Check("expect_column_values_to_be_between", {"column": "b", "max_value": 1e9}),
        Check("expect_column_values_to_be_in_set", {"column": "c", "value_set": ["x", "y"]}),
        Check("expect_column_values_to_match_regex", {"column": "c", "regex": "^[xy]$"}),
        Check("expect_compound_columns_to_be_unique", {"column_list": ["id", "c"]}),
        Check("expect_column_mean_to_be_between", {"column": "a", "min_value": 0}),
        Check("expect_column_stdev_to_be_between", {"column": "a", "min_value": 0}),
        Check("expect_column_median_to_be_between", {"column": "a", "min_value": 0}),
        Check(
            "expect_column_quantile_values_to_be_between",
            {"column": "b", "quantile_ranges": {"quantiles": [0.5], "value_ranges": [[0, None]]}},
        ),
        Check(
            "expect_column_proportion_of_unique_values_to_be_between",
            {"column": "id", "min_value": 1},
        ),
        Check(
            "expect_column_pair_values_a_to_be_greater_than_b",
            {"column_A": "b", "column_B": "a", "or_equal": True},
        ),
        Check(
            "expect_multicolumn_sum_to_equal",
            {"column_list": ["a", "b"], "sum_total": 3},
            severity="low",
        ),
        Check("expect_table_rows_to_be_unique", {}),
        Check(
            "expect_feature_label_correlation_to_be_below", {"column": "id", "label_column": "a"}
        ),
    ]


def data(n: int = 1000) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    a = rng.integers(0, 2, n).astype(np.float64)
    return pd.DataFrame({"id": np.arange(n), "a": a, "b": 3 - a, "c": rng.choice(["x", "y"], n)})


def test_a_passing_suite_of_twenty_checks_is_one_query(tmp_path: Path) -> None:
    path = tmp_path / "d.parquet"
    data().to_parquet(path)
    result = validate(Suite("s", twenty_checks()), path)
    assert len(result.checks) == 20
    assert result.verdict == "passed" and result.queries == 1


def test_failing_row_checks_add_exactly_one_query() -> None:
    bad = data()
    bad.loc[[3, 8], "a"] = -1.0
    bad.loc[[5, 6], "id"] = 0
    result = validate(Suite("s", twenty_checks()), bad)
    assert result.queries == 2
    failed = {c.expectation: c for c in result.failures}
    assert [r["row"] for r in failed["expect_column_values_to_be_between"].failing_rows] == [3, 8]
    assert failed["expect_column_values_to_be_unique"].unexpected_count == 3
    only_aggregate = validate(
        Suite("s", [Check("expect_column_mean_to_be_between", {"column": "a", "min_value": 10})]),
        data(),
    )
    assert only_aggregate.verdict == "failed" and only_aggregate.queries == 1


def test_shared_aggregates_are_computed_once_and_values_are_parameters() -> None:
    con = connect()
    table = bind(con, data())
    ctx = CompileContext.standalone(table.columns, table.relation)
    suite = Suite(
        "s",
        [
            Check(
                "expect_column_values_to_be_in_set", {"column": "c", "value_set": ["x'; DROP", "y"]}
            ),
            Check("expect_column_values_to_be_unique", {"column": "id"}),
            Check("expect_column_values_to_be_unique", {"column": "id", "mostly": 0.5}),
        ],
    )
    compiled = compile_suite(suite, ctx)
    assert compiled.sql.count("count(DISTINCT hash(") == 1  # no ranges probed: hashes
    assert "DROP" not in compiled.sql and compiled.params["p0"] == "x'; DROP"
    failing = [cc for cc in compiled.checks if cc.plan and cc.plan.rows]
    sql, params = failing_rows_query(compiled, failing, table.rows(), 5)
    assert sql.count("HAVING count(*) > 1") == 1 and "min_by(" in sql
    assert set(params) == {"p0", "p1"}
    con.close()


def test_sample_rows_bound_the_failing_rows_kept() -> None:
    bad = pd.DataFrame({"x": [None] * 50})
    suite = Suite(
        "s", [Check("expect_column_values_to_not_be_null", {"column": "x"})], sample_rows=4
    )
    result = validate(suite, bad)
    assert [r["row"] for r in result.checks[0].failing_rows] == [0, 1, 2, 3]
    assert result.checks[0].unexpected_count == 50
    assert validate(suite, bad, sample_rows=0).checks[0].failing_rows == []
