"""Nulls, empty tables, all-null columns, unicode and mixed types, for every family."""

from __future__ import annotations

import pandas as pd
import pytest

from cairn.quality import Check
from tests.quality.conftest import one, run_checks

ROW_LEVEL = [
    ("expect_column_values_to_be_between", {"column": "x", "min_value": 0}),
    ("expect_column_values_to_be_in_set", {"column": "x", "value_set": [1, 2]}),
    ("expect_column_values_to_match_regex", {"column": "x", "regex": "^1$"}),
    ("expect_column_values_to_be_unique", {"column": "x"}),
    ("expect_column_pair_values_a_to_be_greater_than_b", {"column_A": "x", "column_B": "y"}),
    ("expect_multicolumn_sum_to_equal", {"column_list": ["x", "y"], "sum_total": 3}),
]
STATISTICS = [
    ("expect_column_mean_to_be_between", {"column": "x", "min_value": 0}),
    ("expect_column_stdev_to_be_between", {"column": "x", "min_value": 0}),
    ("expect_column_median_to_be_between", {"column": "x", "min_value": 0}),
    (
        "expect_column_quantile_values_to_be_between",
        {"column": "x", "quantile_ranges": {"quantiles": [0.5], "value_ranges": [[0, None]]}},
    ),
    ("expect_column_proportion_of_unique_values_to_be_between", {"column": "x", "min_value": 0}),
]


def empty() -> pd.DataFrame:
    return pd.DataFrame({"x": pd.Series([], dtype="float64"), "y": pd.Series([], dtype="int64")})


def all_null() -> pd.DataFrame:
    return pd.DataFrame({"x": [None, None, None], "y": [None, None, None]}, dtype=object)


@pytest.mark.parametrize(("name", "kwargs"), ROW_LEVEL, ids=[c[0] for c in ROW_LEVEL])
@pytest.mark.parametrize("data", [empty, all_null], ids=["empty", "all-null"])
def test_row_level_checks_pass_vacuously(
    name: str, kwargs: dict[str, object], data: object
) -> None:
    result = one(data(), name, **kwargs)  # type: ignore[operator]
    assert result.success and result.unexpected_count == 0 and result.failing_rows == []


@pytest.mark.parametrize(("name", "kwargs"), STATISTICS, ids=[c[0] for c in STATISTICS])
@pytest.mark.parametrize("data", [empty, all_null], ids=["empty", "all-null"])
def test_statistics_of_nothing_fail_as_undefined(
    name: str, kwargs: dict[str, object], data: object
) -> None:
    result = one(data(), name, **kwargs)  # type: ignore[operator]
    assert not result.success and result.observed is None and result.message


def test_not_null_on_empty_and_all_null() -> None:
    assert one(empty(), "expect_column_values_to_not_be_null", column="x").success
    nulls = one(all_null(), "expect_column_values_to_not_be_null", column="x")
    assert (nulls.success, nulls.unexpected_count, nulls.unexpected_share) == (False, 3, 1.0)
    assert [r["row"] for r in nulls.failing_rows] == [0, 1, 2]


def test_table_checks_on_an_empty_table() -> None:
    result = run_checks(
        empty(),
        Check("expect_table_row_count_to_be_between", {"min_value": 1}),
        Check("expect_table_columns_to_match_set", {"column_set": ["x", "y"]}),
        Check("expect_table_rows_to_be_unique", {}),
        Check("expect_column_psi_to_be_less_than", {"column": "x", "reference": "ref"}),
        Check("expect_label_rate_to_be_stable", {"column": "y", "reference_rate": 0.5}),
        Check("expect_feature_label_correlation_to_be_below", {"column": "x", "label_column": "y"}),
        references={"ref": {"columns": {"x": _numeric_profile()}}},
    )
    assert result.rows == 0
    assert [c.success for c in result.checks] == [False, True, True, False, False, True]
    assert result.checks[0].observed == 0


def _numeric_profile() -> dict[str, object]:
    return {"type": "numeric", "edges": [1.0], "proportions": [0.5, 0.5], "missing": 0.0}


def test_freshness_of_an_all_null_column_fails() -> None:
    frame = pd.DataFrame({"ts": pd.Series([None, None], dtype="datetime64[us, UTC]")})
    result = one(frame, "expect_data_to_be_fresh", column="ts", max_age="1d")
    assert not result.success and result.message == "no timestamps"


@pytest.mark.parametrize(
    ("dtype", "timezone"),
    [("datetime64[ns]", "UTC"), ("datetime64[ns, UTC]", None), ("datetime64[us]", "UTC")],
)
def test_freshness_of_nanosecond_timestamps(dtype: str, timezone: str | None) -> None:
    # pandas reads a CSV's timestamps as nanoseconds; DuckDB's epoch_us has no _NS overload
    newest = pd.Timestamp.now(tz="UTC").floor("s") - pd.Timedelta(hours=2)
    stamps = pd.Series([newest - pd.Timedelta(days=3), newest])
    if "UTC" not in dtype:
        stamps = stamps.dt.tz_localize(None)
    frame = pd.DataFrame({"ts": stamps.astype(dtype)})
    args = {"timezone": timezone} if timezone else {}
    fresh = one(frame, "expect_data_to_be_fresh", column="ts", max_age="1d", **args)
    stale = one(frame, "expect_data_to_be_fresh", column="ts", max_age="1h", **args)
    assert fresh.success and not stale.success
    assert fresh.details["newest"] == newest.isoformat()


def test_unicode_values_and_column_names() -> None:
    frame = pd.DataFrame({'naïve "col" ✓': ["Zoë", "東京", "ok", None], "n": [1, 2, 3, 4]})
    regex = one(
        frame, "expect_column_values_to_match_regex", column='naïve "col" ✓', regex="^[a-z]+$"
    )
    assert regex.unexpected_count == 2
    assert [r["values"]['naïve "col" ✓'] for r in regex.failing_rows] == ["Zoë", "東京"]
    in_set = one(
        frame, "expect_column_values_to_be_in_set", column='naïve "col" ✓', value_set=["東京"]
    )
    assert in_set.unexpected_count == 2
    unique = one(frame, "expect_column_values_to_be_unique", column='naïve "col" ✓')
    assert unique.success


def test_mixed_types_are_compared_as_text_or_parsed_as_numbers() -> None:
    frame = pd.DataFrame({"x": [1, "x", 2.5, None, "7"]}, dtype=object)
    between = one(frame, "expect_column_values_to_be_between", column="x", min_value=0, max_value=3)
    assert between.unexpected_count == 2  # "x" is not a number, 7 is out of range
    assert [r["values"]["x"] for r in between.failing_rows] == ["x", "7"]
    mean = one(frame, "expect_column_mean_to_be_between", column="x", min_value=0)
    assert not mean.success and mean.unexpected_count == 1
    assert mean.observed == pytest.approx((1 + 2.5 + 7) / 3)
    assert "not numbers" in mean.message
    in_set = one(frame, "expect_column_values_to_be_in_set", column="x", value_set=[1, 2.5])
    assert in_set.unexpected_count == 2


def test_nan_counts_as_missing_like_pandas(frame: pd.DataFrame) -> None:
    result = one(frame, "expect_column_values_to_not_be_null", column="amount")
    assert result.unexpected_count == 2 and [r["row"] for r in result.failing_rows] == [3, 6]
    mean = one(frame, "expect_column_mean_to_be_between", column="amount", min_value=0)
    assert mean.observed == pytest.approx(frame["amount"].mean())
