"""Every kind of input gives the same results and the same row numbers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from cairn.core.errors import SourceError
from cairn.quality import Check, Suite, validate

SUITE = Suite(
    "s",
    [
        Check("expect_column_values_to_be_between", {"column": "v", "min_value": 0}),
        Check("expect_column_values_to_be_unique", {"column": "k"}),
    ],
)


def frame() -> pd.DataFrame:
    v = np.arange(30, dtype=np.float64)
    v[[4, 17, 29]] = -1.0
    k = np.arange(30)
    k[[10, 20]] = 5
    return pd.DataFrame({"k": k, "v": v, "s": [f"é{i}" for i in range(30)]})


def rows_of(data: Any) -> tuple[list[int], list[int], int]:
    result = validate(SUITE, data)
    between, unique = result.checks
    return (
        [r["row"] for r in between.failing_rows],
        [r["row"] for r in unique.failing_rows],
        result.rows,
    )


EXPECTED = ([4, 17, 29], [5, 10, 20], 30)


def test_dataframe_and_arrow() -> None:
    assert rows_of(frame()) == EXPECTED
    assert rows_of(pa.Table.from_pandas(frame())) == EXPECTED


def test_arrow_stream_objects() -> None:
    reader = pa.RecordBatchReader.from_batches(
        pa.Table.from_pandas(frame()).schema, pa.Table.from_pandas(frame()).to_batches(7)
    )
    assert rows_of(reader) == EXPECTED


def test_parquet_file_and_folder_number_rows_across_files(tmp_path: Path) -> None:
    f = frame()
    f.to_parquet(tmp_path / "one.parquet")
    assert rows_of(tmp_path / "one.parquet") == EXPECTED
    folder = tmp_path / "parts"
    folder.mkdir()
    for i, part in enumerate((f.iloc[:12], f.iloc[12:20], f.iloc[20:])):
        part.to_parquet(folder / f"part-{i}.parquet")
    assert rows_of(folder) == EXPECTED
    assert rows_of(str(folder)) == EXPECTED


def test_csv_and_delta(tmp_path: Path) -> None:
    f = frame()
    f.to_csv(tmp_path / "data.csv", index=False)
    assert rows_of(tmp_path / "data.csv") == EXPECTED
    from deltalake import write_deltalake

    write_deltalake(tmp_path / "delta", f.iloc[:15])
    write_deltalake(tmp_path / "delta", f.iloc[15:], mode="append")
    between, unique, rows = rows_of(tmp_path / "delta")
    assert rows == 30 and len(between) == 3 and len(unique) == 3


def test_bad_inputs_name_what_was_expected(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="No data at"):
        validate(SUITE, tmp_path / "missing.parquet")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceError, match="No .parquet files under"):
        validate(SUITE, tmp_path / "empty")
    with pytest.raises(SourceError, match="data must be a pandas DataFrame.*got int"):
        validate(SUITE, 42)
    with pytest.raises(SourceError, match="'__cairn' are reserved"):
        validate(SUITE, pd.DataFrame({"__cairn_row": [1]}))
    with pytest.raises(SourceError, match="column names must be distinct strings"):
        validate(SUITE, pd.DataFrame([[1, 2]], columns=["a", "a"]))
    (tmp_path / "bad.parquet").write_text("not parquet")
    with pytest.raises(SourceError, match="Cannot read"):
        validate(SUITE, tmp_path / "bad.parquet")


def _with_gaps(n: int = 500) -> pd.DataFrame:
    rng = np.random.default_rng(47)
    name = np.array([f"n{i}" for i in range(n)], dtype=object)
    name[rng.choice(n, 47, replace=False)] = None
    amount = rng.normal(100, 10, n)
    amount[rng.choice(n, 12, replace=False)] = np.nan
    day = pd.Series(pd.date_range("2026-01-01", periods=n, freq="h").date)
    return pd.DataFrame({"name": name, "amount": amount, "day": day})


GAPS = Suite(
    "gaps",
    [
        Check("expect_column_values_to_not_be_null", {"column": "name"}, severity="critical"),
        Check("expect_column_values_to_not_be_null", {"column": "amount"}),
        Check(
            "expect_column_values_to_be_between",
            {"column": "day", "min_value": "2026-01-01", "max_value": "2026-12-31"},
        ),
        Check("expect_column_values_to_match_regex", {"column": "name", "regex": "^n[0-9]+$"}),
    ],
)


def test_dataframe_parquet_and_csv_give_identical_results(tmp_path: Path) -> None:
    """Issue 17: an empty CSV field was an empty string, so a not-null check passed on CSV
    (0 unexpected) and failed on the same data as Parquet (47)."""
    data = _with_gaps()
    data.to_parquet(tmp_path / "d.parquet", index=False)
    data.to_csv(tmp_path / "d.csv", index=False)
    results = [validate(GAPS, d) for d in (data, tmp_path / "d.parquet", tmp_path / "d.csv")]
    counts = [[c.unexpected_count for c in r.checks] for r in results]
    assert counts[0] == [47, 12, 0, 0]
    assert counts[1] == counts[0] and counts[2] == counts[0]
    rows = [[[x["row"] for x in c.failing_rows] for c in r.checks] for r in results]
    assert rows[1] == rows[0] and rows[2] == rows[0]


def test_a_header_only_csv_keeps_the_types_the_suite_declares(tmp_path: Path) -> None:
    """Every column of a header-only CSV is typed NULL; the date bounds declare a date."""
    (tmp_path / "empty.csv").write_text("name,amount,day\n")
    result = validate(GAPS, tmp_path / "empty.csv")
    assert result.rows == 0
    assert [c.unexpected_count for c in result.checks] == [0, 0, 0, 0]
