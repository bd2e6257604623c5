"""The quality benchmark's contenders: the same 20 checks in Cairn, Great Expectations 1.x
(pandas, default result format) and pandera (pandas and polars backends).

Each ``setup_*`` builds its suite or schema (excluded from timings) and returns a call that
takes the data (a Parquet path, or a frame already in memory) and returns the number of checks
that failed, as the library reports it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from _quality_data import COLUMNS, STATUSES, TERMS

Call = Callable[[Any], int]
EMAIL = r"^[a-z0-9.]+@[a-z]+\.[a-z]{2,}$"
COUNTRY = r"^[A-Z]{2}$"


class ContenderUnavailable(RuntimeError):
    """The contender's library is not installed in this environment."""


def checks() -> list[tuple[str, dict[str, Any]]]:
    """The 20 checks, as Great Expectations names and arguments (Cairn uses the same)."""
    return [
        ("expect_table_columns_to_match_set", {"column_set": COLUMNS, "exact_match": True}),
        ("expect_table_row_count_to_be_between", {"min_value": 1}),
        ("expect_column_values_to_not_be_null", {"column": "id"}),
        ("expect_column_values_to_not_be_null", {"column": "amount", "mostly": 0.99}),
        ("expect_column_values_to_be_unique", {"column": "id"}),
        ("expect_compound_columns_to_be_unique", {"column_list": ["customer_id", "seq"]}),
        (
            "expect_column_values_to_be_between",
            {"column": "age", "min_value": 18, "max_value": 100},
        ),
        (
            "expect_column_values_to_be_between",
            {"column": "amount", "min_value": 0, "max_value": 1e7},
        ),
        ("expect_column_values_to_be_between", {"column": "score", "min_value": 0, "max_value": 1}),
        ("expect_column_values_to_be_in_set", {"column": "status", "value_set": STATUSES}),
        ("expect_column_values_to_be_in_set", {"column": "term", "value_set": TERMS}),
        ("expect_column_values_to_match_regex", {"column": "country", "regex": COUNTRY}),
        ("expect_column_values_to_match_regex", {"column": "email", "regex": EMAIL}),
        (
            "expect_column_mean_to_be_between",
            {"column": "income", "min_value": 2900, "max_value": 3100},
        ),
        (
            "expect_column_stdev_to_be_between",
            {"column": "income", "min_value": 700, "max_value": 900},
        ),
        (
            "expect_column_median_to_be_between",
            {"column": "amount", "min_value": 2000, "max_value": 4000},
        ),
        (
            "expect_column_quantile_values_to_be_between",
            {
                "column": "score",
                "quantile_ranges": {
                    "quantiles": [0.05, 0.5, 0.95],
                    "value_ranges": [[0.0, 0.1], [0.45, 0.55], [0.9, 1.0]],
                },
            },
        ),
        (
            "expect_column_proportion_of_unique_values_to_be_between",
            {"column": "customer_id", "min_value": 0.15, "max_value": 0.25},
        ),
        (
            "expect_column_pair_values_a_to_be_greater_than_b",
            {"column_A": "updated_at", "column_B": "created_at", "or_equal": True},
        ),
        (
            "expect_multicolumn_sum_to_equal",
            {"column_list": ["pct_a", "pct_b", "pct_c"], "sum_total": 100},
        ),
    ]


def setup_cairn() -> Call:
    from cairn.quality import Check, Suite, validate

    suite = Suite("bench", [Check(name, kwargs) for name, kwargs in checks()], sample_rows=20)

    def call(data: Any) -> int:
        return len(validate(suite, data).failures)

    return call


def setup_gx() -> Call:
    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    try:
        import great_expectations as gx
        import pandas as pd
    except ImportError as exc:
        raise ContenderUnavailable(f"great_expectations: {exc}") from exc
    context = gx.get_context(mode="ephemeral")
    asset = context.data_sources.add_pandas("bench").add_dataframe_asset("frame")
    batches = asset.add_batch_definition_whole_dataframe("whole")
    suite = context.suites.add(gx.ExpectationSuite(name="bench"))
    for name, kwargs in checks():
        cls = _gx_class(gx, name)
        suite.add_expectation(cls(**kwargs))

    def call(data: Any) -> int:
        frame = pd.read_parquet(data) if isinstance(data, str) else data
        result = batches.get_batch(batch_parameters={"dataframe": frame}).validate(suite)
        return sum(not r.success for r in result.results)

    return call


def _gx_class(gx: Any, name: str) -> Any:
    camel = "".join(part.capitalize() for part in name.split("_"))
    return getattr(gx.expectations, camel)


def setup_pandera_pandas() -> Call:
    try:
        import pandas as pd
        import pandera.pandas as pa
        from pandera.errors import SchemaErrors
    except ImportError as exc:
        raise ContenderUnavailable(f"pandera[pandas]: {exc}") from exc
    C = pa.Check
    quantiles = ((0.05, 0.0, 0.1), (0.5, 0.45, 0.55), (0.95, 0.9, 1.0))
    schema = pa.DataFrameSchema(
        {
            "id": pa.Column("int64", nullable=False, unique=True),
            "customer_id": pa.Column("int64", C(lambda s: 0.15 <= s.nunique() / s.count() <= 0.25)),
            "seq": pa.Column("int64"),
            "amount": pa.Column(
                "float64",
                [
                    C.in_range(0, 1e7),
                    C(lambda s: s.notna().mean() >= 0.99, ignore_na=False),
                    C(lambda s: 2000 <= s.median() <= 4000),
                ],
                nullable=True,
            ),
            "income": pa.Column(
                "float64",
                [C(lambda s: 2900 <= s.mean() <= 3100), C(lambda s: 700 <= s.std() <= 900)],
            ),
            "age": pa.Column("int64", C.in_range(18, 100)),
            "term": pa.Column("int64", C.isin(TERMS)),
            "score": pa.Column(
                "float64",
                [
                    C.in_range(0, 1),
                    C(lambda s: all(lo <= s.quantile(q) <= hi for q, lo, hi in quantiles)),
                ],
            ),
            "status": pa.Column(str, C.isin(STATUSES)),
            "country": pa.Column(str, C.str_matches(COUNTRY)),
            "email": pa.Column(str, C.str_matches(EMAIL)),
            **{c: pa.Column(nullable=True) for c in COLUMNS if c in _UNCHECKED},
        },
        checks=[
            C(lambda df: len(df) >= 1, name="row_count"),
            C(lambda df: df["updated_at"] >= df["created_at"], name="updated_after_created"),
            C(lambda df: df["pct_a"] + df["pct_b"] + df["pct_c"] == 100, name="shares_sum"),
        ],
        unique=["customer_id", "seq"],
        strict=True,
    )

    def call(data: Any) -> int:
        frame = pd.read_parquet(data) if isinstance(data, str) else data
        try:
            schema.validate(frame, lazy=True)
        except SchemaErrors as err:
            return _distinct_checks(err.failure_cases.to_dict("records"))
        return 0

    return call


_UNCHECKED = ("channel", "created_at", "updated_at", "pct_a", "pct_b", "pct_c", "flag")
_UNCHECKED += ("balance", "label")


def setup_pandera_polars() -> Call:
    try:
        import pandera.polars as pa
        import polars as pl
        from pandera.errors import SchemaErrors
    except ImportError as exc:
        raise ContenderUnavailable(f"pandera[polars]: {exc}") from exc
    C = pa.Check

    def stat(expr: Callable[[Any], Any]) -> Any:
        return C(lambda d: d.lazyframe.select(expr(pl.col(d.key))))

    quantiles = ((0.05, 0.0, 0.1), (0.5, 0.45, 0.55), (0.95, 0.9, 1.0))
    schema = pa.DataFrameSchema(
        {
            "id": pa.Column(pl.Int64, nullable=False, unique=True),
            "customer_id": pa.Column(
                pl.Int64, stat(lambda c: (c.n_unique() / c.count()).is_between(0.15, 0.25))
            ),
            "seq": pa.Column(pl.Int64),
            "amount": pa.Column(
                pl.Float64,
                [
                    C.in_range(0, 1e7),
                    stat(lambda c: c.is_not_null().mean() >= 0.99),
                    stat(lambda c: c.median().is_between(2000, 4000)),
                ],
                nullable=True,
            ),
            "income": pa.Column(
                pl.Float64,
                [
                    stat(lambda c: c.mean().is_between(2900, 3100)),
                    stat(lambda c: c.std().is_between(700, 900)),
                ],
            ),
            "age": pa.Column(pl.Int64, C.in_range(18, 100)),
            "term": pa.Column(pl.Int64, C.isin(TERMS)),
            "score": pa.Column(
                pl.Float64,
                [
                    C.in_range(0, 1),
                    *(
                        stat(
                            lambda c, q=q, lo=lo, hi=hi: c.quantile(q, "linear").is_between(lo, hi)
                        )
                        for q, lo, hi in quantiles
                    ),
                ],
            ),
            "status": pa.Column(pl.Utf8, C.isin(STATUSES)),
            "country": pa.Column(pl.Utf8, C.str_matches(COUNTRY)),
            "email": pa.Column(pl.Utf8, C.str_matches(EMAIL)),
            **{c: pa.Column(nullable=True) for c in COLUMNS if c in _UNCHECKED},
        },
        checks=[
            C(lambda d: d.lazyframe.select(pl.len() >= 1), name="row_count"),
            C(
                lambda d: d.lazyframe.select(pl.col("updated_at") >= pl.col("created_at")),
                name="updated_after_created",
            ),
            C(
                lambda d: d.lazyframe.select(
                    pl.col("pct_a") + pl.col("pct_b") + pl.col("pct_c") == 100
                ),
                name="shares_sum",
            ),
        ],
        unique=["customer_id", "seq"],
        strict=True,
    )

    def call(data: Any) -> int:
        frame = pl.read_parquet(data) if isinstance(data, str) else data
        try:
            schema.validate(frame, lazy=True)
        except SchemaErrors as err:
            return _distinct_checks(err.failure_cases.to_dicts())
        return 0

    return call


def _distinct_checks(cases: list[dict[str, Any]]) -> int:
    """Failed checks in pandera's failure cases: a column check once per column, a dataframe
    check once (pandera lists a dataframe check's failure once per column)."""
    keys = {
        (c["schema_context"], c["column"] if c["schema_context"] == "Column" else "", c["check"])
        for c in cases
    }
    return len(keys)


CONTENDERS: dict[str, Callable[[], Call]] = {
    "cairn": setup_cairn,
    "cairn-pandas": setup_cairn,
    "gx": setup_gx,
    "pandera-pandas": setup_pandera_pandas,
    "pandera-polars": setup_pandera_polars,
}
LABELS = {
    "cairn": "Cairn (DuckDB)",
    "cairn-pandas": "Cairn on a pandas frame",
    "gx": "Great Expectations 1.x (pandas)",
    "pandera-pandas": "pandera (pandas)",
    "pandera-polars": "pandera (polars)",
}


def load_frame(name: str, path: str) -> Any:
    """The in-memory form each contender validates in the ``memory`` mode: its native frame
    (Arrow for Cairn, polars for pandera-polars, pandas for the others)."""
    if name == "pandera-polars":
        import polars as pl

        return pl.read_parquet(path)
    if name == "cairn":
        import pyarrow.parquet as pq

        return pq.read_table(path)
    import pandas as pd

    return pd.read_parquet(path)
