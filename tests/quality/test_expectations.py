"""Every expectation on data that passes and on data that fails, with exact counts."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from cairn.quality import expectation_names
from tests.quality.conftest import one

T0 = pd.Timestamp("2026-01-01", tz="UTC")

# expectation, kwargs, passing data, failing data, unexpected count on the failing data
# (None: an aggregate check)
CASES: list[tuple[str, dict[str, Any], dict[str, list[Any]], dict[str, list[Any]], int | None]] = [
    ("expect_column_to_exist", {"column": "a"}, {"a": [1]}, {"b": [1]}, None),
    (
        "expect_table_columns_to_match_set",
        {"column_set": ["a", "b"]},
        {"a": [1], "b": [2]},
        {"a": [1], "c": [2]},
        None,
    ),
    (
        "expect_column_values_to_not_be_null",
        {"column": "a"},
        {"a": [1.0, 2.0]},
        {"a": [1.0, None, float("nan")]},
        2,
    ),
    (
        "expect_column_values_to_be_between",
        {"column": "a", "min_value": 0, "max_value": 10},
        {"a": [0, 5, 10, None]},
        {"a": [-1, 5, 11, None]},
        2,
    ),
    (
        "expect_column_values_to_be_in_set",
        {"column": "a", "value_set": ["x", "y"]},
        {"a": ["x", "y", None]},
        {"a": ["x", "z", "w"]},
        2,
    ),
    (
        "expect_column_values_to_match_regex",
        {"column": "a", "regex": "^[A-Z]{2}$"},
        {"a": ["AB", "CD", None]},
        {"a": ["AB", "abc", "A1"]},
        2,
    ),
    (
        "expect_column_values_to_be_unique",
        {"column": "a"},
        {"a": [1, 2, 3, None, None]},
        {"a": [1, 2, 2, 3, 3, 3]},
        5,
    ),
    (
        "expect_compound_columns_to_be_unique",
        {"column_list": ["a", "b"]},
        {"a": [1, 1, 2], "b": [1, 2, 1]},
        {"a": [1, 1, 2], "b": [1, 1, 1]},
        2,
    ),
    (
        "expect_column_mean_to_be_between",
        {"column": "a", "min_value": 1, "max_value": 3},
        {"a": [1.0, 3.0]},
        {"a": [5.0, 7.0]},
        None,
    ),
    (
        "expect_column_stdev_to_be_between",
        {"column": "a", "max_value": 1},
        {"a": [1.0, 2.0]},
        {"a": [1.0, 9.0]},
        None,
    ),
    (
        "expect_column_median_to_be_between",
        {"column": "a", "min_value": 2, "max_value": 2},
        {"a": [1, 2, 3]},
        {"a": [1, 2, 3, 4]},
        None,
    ),
    (
        "expect_column_quantile_values_to_be_between",
        {
            "column": "a",
            "quantile_ranges": {"quantiles": [0.0, 1.0], "value_ranges": [[0, 1], [9, None]]},
        },
        {"a": [0, 5, 10]},
        {"a": [2, 5, 8]},
        None,
    ),
    (
        "expect_column_proportion_of_unique_values_to_be_between",
        {"column": "a", "min_value": 0.9},
        {"a": [1, 2, 3]},
        {"a": [1, 1, 1, 2]},
        None,
    ),
    (
        "expect_column_pair_values_a_to_be_greater_than_b",
        {"column_A": "a", "column_B": "b"},
        {"a": [2, 3], "b": [1, 2]},
        {"a": [2, 2, None], "b": [1, 2, 1]},
        2,
    ),
    (
        "expect_table_row_count_to_be_between",
        {"min_value": 2, "max_value": 3},
        {"a": [1, 2]},
        {"a": [1, 2, 3, 4]},
        None,
    ),
    (
        "expect_multicolumn_sum_to_equal",
        {"column_list": ["a", "b"], "sum_total": 10},
        {"a": [3, 10, None], "b": [7, None, 10]},
        {"a": [3, 4], "b": [7, 7]},
        1,
    ),
    (
        "expect_table_rows_to_be_unique",
        {},
        {"a": [1, 1], "b": ["x", "y"]},
        {"a": [1, 1, 2], "b": ["x", "x", "y"]},
        2,
    ),
    (
        "expect_feature_label_correlation_to_be_below",
        {"column": "a", "label_column": "y", "threshold": 0.8},
        {"a": [1.0, 2.0, 3.0, 4.0], "y": [0, 1, 1, 0]},
        {"a": [1.0, 2.0, 3.0, 4.0], "y": [0, 0, 1, 1]},
        None,
    ),
    (
        "expect_label_rate_to_be_stable",
        {"column": "y", "reference_rate": 0.5, "max_delta": 0.1},
        {"y": [0, 1, 0, 1]},
        {"y": [1, 1, 1, 0]},
        None,
    ),
    (
        "expect_data_to_be_fresh",
        {"column": "ts", "max_age": "1h"},
        {"ts": [T0, pd.Timestamp.now(tz="UTC")]},
        {"ts": [T0]},
        None,
    ),
    (
        "expect_no_train_test_leakage",
        {"column_list": ["k"], "split_column": "split"},
        {"k": [1, 2, 3], "split": ["train", "train", "test"]},
        {"k": [1, 2, 1, 2, 5], "split": ["train", "train", "test", "test", "test"]},
        2,
    ),
]


@pytest.mark.parametrize(
    ("name", "kwargs", "good", "bad", "count"), CASES, ids=[c[0] for c in CASES]
)
def test_passes_then_fails(
    name: str,
    kwargs: dict[str, Any],
    good: dict[str, list[Any]],
    bad: dict[str, list[Any]],
    count: int | None,
) -> None:
    passing = one(pd.DataFrame(good), name, **kwargs)
    assert passing.success, passing
    failing = one(pd.DataFrame(bad), name, **kwargs)
    assert not failing.success, failing
    assert failing.unexpected_count == count
    if count:
        assert len(failing.failing_rows) == count
        assert failing.unexpected_share == pytest.approx(count / (failing.considered or 1))


def test_every_expectation_has_a_case() -> None:
    covered = {c[0] for c in CASES} | {
        "expect_column_psi_to_be_less_than",  # tests/quality/test_drift.py
        "expect_column_values_to_exist_in_table",  # tests/quality/test_relations.py
    }
    assert covered == set(expectation_names())
