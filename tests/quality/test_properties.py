"""Invariants: each row-level check's unexpected count equals a pandas brute-force count, on
random data with nulls, NaN, repeats and unicode."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cairn.profiles import NumericReference, ReferenceProfile, numeric_bins, psi
from cairn.quality import Check, Suite, profile_reference, validate

FLOATS = st.one_of(
    st.none(),
    st.just(float("nan")),
    st.floats(-50, 50, allow_nan=False).map(lambda v: round(v, 1) + 0.0),
)
INTS = st.one_of(st.none(), st.integers(-3, 3))
TEXT = st.one_of(st.none(), st.sampled_from(["a", "ab", "b", "é", "東京", "B1", ""]))


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(0, 40))
    return pd.DataFrame(
        {
            "x": pd.array(draw(st.lists(FLOATS, min_size=n, max_size=n)), dtype="Float64"),
            "y": pd.array(draw(st.lists(INTS, min_size=n, max_size=n)), dtype="Int64"),
            "z": pd.array(draw(st.lists(INTS, min_size=n, max_size=n)), dtype="Int64"),
            "s": pd.Series(draw(st.lists(TEXT, min_size=n, max_size=n)), dtype=object),
        }
    )


def brute_force(f: pd.DataFrame, lo: float, hi: float, values: list[str]) -> dict[str, int]:
    x = f["x"].astype("float64")  # pd.NA and NaN both become NaN: missing
    y, z, s = f["y"], f["z"], f["s"]
    present = x.notna()
    sy = f[["y", "s"]].astype(object).where(f[["y", "s"]].notna(), None)
    keyed = sy[(y.notna() | s.notna()).to_numpy()]
    summed = f[["y", "z"]][(y.notna() | z.notna()).to_numpy()].fillna(0).sum(axis=1)
    pair = f[~(x.isna() & y.isna()).to_numpy()]
    gt = pair["x"].astype("float64") > pair["y"].astype("float64")
    whole = f.astype(object).where(f.notna(), None)
    return {
        "not_null": int(x.isna().sum()),
        "between": int((present & ~((x >= lo) & (x <= hi))).sum()),
        "in_set": int((s.notna() & ~s.isin(values)).sum()),
        "regex": int(sum(v is not None and not re.search("^[ab]", v) for v in s)),
        "unique": int((y.notna() & y.duplicated(keep=False)).sum()),
        "compound": int(keyed.duplicated(keep=False).sum()),
        "pair": int((~gt.fillna(False).astype(bool)).sum()),
        "sum": int((summed != 5).sum()),
        "rows": int(whole.duplicated(keep=False).sum()),
    }


def suite(lo: float, hi: float, values: list[str]) -> Suite:
    return Suite(
        "p",
        [
            Check("expect_column_values_to_not_be_null", {"column": "x"}),
            Check(
                "expect_column_values_to_be_between",
                {"column": "x", "min_value": lo, "max_value": hi},
            ),
            Check("expect_column_values_to_be_in_set", {"column": "s", "value_set": values}),
            Check("expect_column_values_to_match_regex", {"column": "s", "regex": "^[ab]"}),
            Check("expect_column_values_to_be_unique", {"column": "y"}),
            Check("expect_compound_columns_to_be_unique", {"column_list": ["y", "s"]}),
            Check(
                "expect_column_pair_values_a_to_be_greater_than_b",
                {"column_A": "x", "column_B": "y"},
            ),
            Check("expect_multicolumn_sum_to_equal", {"column_list": ["y", "z"], "sum_total": 5}),
            Check("expect_table_rows_to_be_unique", {}),
        ],
        sample_rows=3,
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    f=frames(),
    lo=st.integers(-30, 0),
    width=st.integers(0, 60),
    values=st.lists(st.sampled_from(["a", "é", "東京", "zz"]), max_size=3),
    arrow=st.booleans(),
)
def test_unexpected_counts_equal_pandas(
    f: pd.DataFrame, lo: int, width: int, values: list[str], arrow: bool
) -> None:
    data = pa.Table.from_pandas(f, preserve_index=False) if arrow else f
    result = validate(suite(lo, lo + width, values), data)
    expected = brute_force(f, lo, lo + width, values)
    got = dict(zip(expected, (c.unexpected_count for c in result.checks), strict=True))
    assert got == expected
    for c in result.checks:
        assert c.success == (c.unexpected_count == 0)
        assert len(c.failing_rows) == min(3, c.unexpected_count or 0)
        assert [r["row"] for r in c.failing_rows] == sorted(r["row"] for r in c.failing_rows)


@settings(max_examples=30, deadline=None)
@given(
    ref=st.lists(st.floats(-1e3, 1e3).map(lambda v: round(v, 3)), min_size=1, max_size=200),
    cur=st.lists(st.one_of(st.none(), st.floats(-2e3, 2e3)), min_size=1, max_size=200),
    bins=st.integers(2, 12),
)
def test_sql_psi_equals_numpy_psi(ref: list[float], cur: list[float | None], bins: int) -> None:
    """The suite counts bins in SQL; the profile's own bins count them in numpy: same PSI."""
    profile = profile_reference(pd.DataFrame({"v": ref}), bins=bins)
    column = ReferenceProfile.from_dict(profile).column("v")
    assert isinstance(column, NumericReference)
    assert column.binning.to_dict() == numeric_bins(np.array(ref), bins).to_dict()
    check = Check("expect_column_psi_to_be_less_than", {"column": "v", "reference": "p"})
    frame = pd.DataFrame({"v": pd.array(cur, dtype="Float64")})
    result = validate(Suite("s", [check]), frame, references={"p": profile}).checks[0]
    values = np.array([np.nan if v is None else v for v in cur], dtype=np.float64)
    present = values[~np.isnan(values)]
    actual = np.append(column.binning.count(present), values.size - present.size) / values.size
    assert result.observed == psi(column.shares(), actual)


def pytest_approx(value: object) -> object:
    import pytest

    return pytest.approx(value, rel=1e-9, abs=1e-12)
