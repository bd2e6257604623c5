"""Across columns and tables: A > B, row sums, referential integrity, leakage."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cairn.quality import Check, Suite, SuiteError, load_suite, validate
from tests.quality.conftest import one


def test_pair_or_equal_and_ignore_row_if() -> None:
    frame = pd.DataFrame({"a": [2, 2, None, None, 1], "b": [1, 2, 1, None, 3]})
    strict = one(
        frame, "expect_column_pair_values_a_to_be_greater_than_b", column_A="a", column_B="b"
    )
    assert [r["row"] for r in strict.failing_rows] == [1, 2, 4]  # equal, one missing, smaller
    or_equal = one(
        frame, "expect_column_pair_values_a_to_be_greater_than_b", column_A="a", column_B="b",
        or_equal=True, ignore_row_if="either_value_is_missing",
    )  # fmt: skip
    assert [r["row"] for r in or_equal.failing_rows] == [4] and or_equal.considered == 3


def test_pair_of_timestamps_and_incomparable_columns() -> None:
    t = pd.to_datetime(["2026-01-01", "2026-01-02"], utc=True)
    frame = pd.DataFrame({"seen": t, "made": t - pd.Timedelta("1h"), "s": ["x", "y"]})
    assert one(
        frame, "expect_column_pair_values_a_to_be_greater_than_b", column_A="seen", column_B="made"
    ).success
    with pytest.raises(SuiteError, match="cannot be compared"):
        one(
            frame, "expect_column_pair_values_a_to_be_greater_than_b", column_A="seen", column_B="s"
        )


def test_multicolumn_sum_ignore_row_if() -> None:
    frame = pd.DataFrame({"a": [1, None, None, 4], "b": [2, 3, None, 1]})
    default = one(frame, "expect_multicolumn_sum_to_equal", column_list=["a", "b"], sum_total=3)
    assert [r["row"] for r in default.failing_rows] == [3] and default.considered == 3
    never = one(
        frame,
        "expect_multicolumn_sum_to_equal",
        column_list=["a", "b"],
        sum_total=3,
        ignore_row_if="never",
    )
    assert [r["row"] for r in never.failing_rows] == [2, 3]


def test_values_exist_in_another_table(tmp_path: Path) -> None:
    pd.DataFrame({"id": [1, 2, 3, None]}).to_parquet(tmp_path / "customers.parquet")
    (tmp_path / "s.yaml").write_text(
        "name: s\nreferences: {customers: customers.parquet}\nexpectations:\n"
        "  - expect_column_values_to_exist_in_table: {column: customer, table: customers,"
        " table_column: id}\n"
        "  - expect_column_values_to_exist_in_table: {column: code, table: customers.parquet,"
        " table_column: id}\n"
    )
    orders = pd.DataFrame({"customer": [1, 4, None, 2, 4], "code": ["1", "2", "9", None, "3"]})
    first, second = validate(load_suite(tmp_path / "s.yaml"), orders).checks
    assert (first.unexpected_count, [r["row"] for r in first.failing_rows]) == (2, [1, 4])
    assert (second.unexpected_count, second.failing_rows[0]["values"]) == (1, {"code": "9"})
    in_memory = Check(
        "expect_column_values_to_exist_in_table",
        {"column": "customer", "table": "t", "table_column": "id"},
    )
    result = validate(
        Suite("s", [in_memory]), orders, references={"t": pd.DataFrame({"id": [1, 2, 4]})}
    )
    assert result.verdict == "passed"


def test_referential_errors_name_the_check(tmp_path: Path) -> None:
    orders = pd.DataFrame({"customer": [1]})
    check = Check("expect_column_values_to_exist_in_table", {"column": "customer", "table": "nope"})
    with pytest.raises(SuiteError, match=r"check #1 .* table 'nope' is neither a reference"):
        validate(Suite("s", [check], base_dir=tmp_path), orders)
    check = Check("expect_column_values_to_exist_in_table", {"column": "customer", "table": "t"})
    with pytest.raises(SuiteError, match="table 't' has no column 'customer'; its columns are id"):
        validate(Suite("s", [check]), orders, references={"t": pd.DataFrame({"id": [1]})})


def test_leakage_against_another_split_and_identical_rows() -> None:
    train = pd.DataFrame({"k": [1, 2, 3], "v": ["a", "b", "c"]})
    test = pd.DataFrame({"k": [3, 4, 2, None], "v": ["c", "d", "x", None]})
    keys = Check("expect_no_train_test_leakage", {"column_list": ["k"], "other": "train"})
    rows = Check("expect_no_train_test_leakage", {"other": "train"})
    by_key, identical = validate(Suite("s", [keys, rows]), test, references={"train": train}).checks
    assert [r["row"] for r in by_key.failing_rows] == [0, 2]
    assert [r["row"] for r in identical.failing_rows] == [0]
    null_keys = pd.DataFrame({"k": [None, None], "split": ["train", "test"]})
    split = Check("expect_no_train_test_leakage", {"column_list": ["k"], "split_column": "split"})
    assert validate(Suite("s", [split]), null_keys).checks[0].unexpected_count == 1  # null-safe
    with pytest.raises(SuiteError, match="exactly one of 'split_column' and 'other'"):
        Suite("s", [Check("expect_no_train_test_leakage", {"column_list": ["k"]})])
