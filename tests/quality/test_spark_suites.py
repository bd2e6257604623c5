"""Quality suites on the Spark engine: the same suite over the same source rows gives the same
result on DuckDB and on Spark (``local[2]``): every check's verdict, counts, observed value
(floats to 1e-9 relative: the engines sum in different orders), details and kept failing rows,
and so the same severity, action and health score.

Covered: the example project's three suites (every kind of check they hold: schema, business,
statistics, PSI against reference profiles, label rate, correlation, referential integrity
against another table, freshness) and a seeded random source under a suite of every other kind
(uniqueness of values, of combinations and of rows with repeats and nulls, regex, text parsed
as numbers, multicolumn sums, leakage, quantiles), with failing rows kept.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from cairn import FileSource
from cairn.core.config import Settings
from cairn.quality import Check, Suite, ValidationResult, load_suite
from cairn.quality.gate import validate_source
from cairn.quality.spark import SparkExecutor
from cairn.quickstart.example import create_example_project
from tests.offline._engines import SPARK_MASTER

pytestmark = pytest.mark.spark

END = datetime(2026, 7, 10, tzinfo=UTC)


def settings_for(root: Path, engine: str) -> Settings:
    settings = Settings.load(root)
    offline = settings.offline.replace(engine=engine, spark_master=SPARK_MASTER)
    return settings.model_copy(update={"offline": offline})


def close(a: Any, b: Any) -> bool:
    """Equal, floats to 1e-9 relative (NaN equals NaN)."""
    if isinstance(a, float) and isinstance(b, (float, int)):
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and len(a) == len(b):
        return all(close(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def assert_same(spark: ValidationResult, duck: ValidationResult) -> None:
    """The two results agree on everything but timing."""
    assert (spark.rows, spark.queries, spark.verdict) == (duck.rows, duck.queries, duck.verdict)
    assert spark.action == duck.action
    for mine, theirs in zip(spark.checks, duck.checks, strict=True):
        a, b = mine.to_dict(), theirs.to_dict()
        if a["expectation"] == "expect_data_to_be_fresh":  # an age at each run's own time
            for d in (a, b):
                d["observed"] = d["details"].pop("now") and None
        assert close(a, b), (a["expectation"], a, b)
    assert close(spark.health.score, duck.health.score)


def both(
    monkeypatch: pytest.MonkeyPatch, root: Path, suite: Any, source: FileSource, end: datetime = END
) -> tuple[ValidationResult, ValidationResult]:
    """The suite's results on DuckDB and on Spark (checked to have run there)."""
    statements: list[str] = []
    run = SparkExecutor.run

    def counted(self: SparkExecutor, sql: str, params: dict[str, Any], label: str) -> Any:
        statements.append(sql)
        return run(self, sql, params, label)

    monkeypatch.setattr(SparkExecutor, "run", counted)
    duck, spark = (
        validate_source(suite, source, root=root, settings=settings_for(root, e), end=end)
        for e in ("duckdb", "spark")
    )
    assert len(statements) == spark.queries
    return spark, duck


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return create_example_project(tmp_path_factory.mktemp("example")).path


@pytest.mark.parametrize(
    ("suite", "created", "end"),
    [
        ("applications", None, END),
        ("profiles", "created_timestamp", END),
        ("transactions", "created_timestamp", datetime(2025, 1, 1, tzinfo=UTC)),  # a tenth
    ],
)
def test_example_suites_agree(
    monkeypatch: pytest.MonkeyPatch, example: Path, suite: str, created: str | None, end: datetime
) -> None:
    source = FileSource(name=suite, path=f"data/{suite}.parquet", created_timestamp_column=created)
    spark, duck = both(
        monkeypatch, example, load_suite(example / "quality" / f"{suite}.yaml"), source, end
    )
    assert duck.rows > 0 and len(duck.checks) > 10
    assert_same(spark, duck)


def random_rows(seed: int, count: int) -> pd.DataFrame:
    rng = random.Random(seed)
    t0 = pd.Timestamp("2026-01-01", tz="UTC")

    def maybe(value: Any, p: float = 0.15) -> Any:
        return None if rng.random() < p else value

    return pd.DataFrame(
        {
            "id": pd.Series([maybe(rng.randrange(0, count)) for _ in range(count)], dtype="Int64"),
            "a": pd.Series([maybe(rng.choice([1, 2, 3])) for _ in range(count)], dtype="Int64"),
            "b": pd.Series([maybe(rng.choice(["x", "y"])) for _ in range(count)], dtype="string"),
            "x": [maybe(rng.choice([math.nan, round(rng.gauss(5, 3), 2)])) for _ in range(count)],
            "y": [maybe(round(rng.uniform(0, 10), 1)) for _ in range(count)],
            "code": pd.Series(
                [
                    maybe(rng.choice(["AB-12", "ab-3", "AB-999", "7.5", "n/a"]))
                    for _ in range(count)
                ],
                dtype="string",
            ),
            "split": pd.Series(
                [rng.choice(["train", "test"]) for _ in range(count)], dtype="string"
            ),
            "label": pd.Series([rng.choice([0, 1]) for _ in range(count)], dtype="int64"),
            "event_timestamp": [
                t0 + pd.Timedelta(seconds=rng.randrange(0, 10**6)) for _ in range(count)
            ],
        }
    )


SUITE = Suite(
    "random",
    [
        Check("expect_column_values_to_be_unique", {"column": "id"}),
        Check("expect_compound_columns_to_be_unique", {"column_list": ["a", "b"]}),
        Check(
            "expect_compound_columns_to_be_unique",
            {"column_list": ["a", "b"], "ignore_row_if": "never"},
        ),
        Check("expect_table_rows_to_be_unique", {"column_list": ["a", "b", "label"]}),
        Check(
            "expect_column_values_to_match_regex", {"column": "code", "regex": "^[A-Z]+-[0-9]{2}$"}
        ),
        Check(
            "expect_column_values_to_be_between", {"column": "code", "min_value": 0, "max_value": 7}
        ),
        Check("expect_column_values_to_be_between", {"column": "x", "min_value": 0, "mostly": 0.5}),
        Check("expect_column_values_to_be_in_set", {"column": "b", "value_set": ["x"]}),
        Check("expect_column_values_to_not_be_null", {"column": "x"}),
        Check(
            "expect_column_pair_values_a_to_be_greater_than_b", {"column_A": "x", "column_B": "y"}
        ),
        Check("expect_multicolumn_sum_to_equal", {"column_list": ["a", "label"], "sum_total": 2}),
        Check("expect_no_train_test_leakage", {"column_list": ["a", "b"], "split_column": "split"}),
        Check(
            "expect_column_proportion_of_unique_values_to_be_between",
            {"column": "a", "max_value": 0.5},
        ),
        Check("expect_column_stdev_to_be_between", {"column": "x", "min_value": 1}),
        Check("expect_column_median_to_be_between", {"column": "y", "min_value": 4}),
        Check(
            "expect_column_quantile_values_to_be_between",
            {
                "column": "x",
                "quantile_ranges": {"quantiles": [0.1, 0.9], "value_ranges": [[0, 3], [6, 12]]},
            },
        ),
        Check("expect_column_mean_to_be_between", {"column": "code", "min_value": 0}),
        Check(
            "expect_feature_label_correlation_to_be_below", {"column": "y", "label_column": "label"}
        ),
        Check(
            "expect_column_values_to_be_between",
            {"column": "event_timestamp", "min_value": "2026-01-05"},
        ),
        Check("expect_data_to_be_fresh", {"column": "event_timestamp", "max_age": "200d"}),
    ],
    sample_rows=3,
)


def test_random_sources_agree(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "cairn.yaml").write_text("project: t\n")
    (tmp_path / "data").mkdir()
    frame = random_rows(1, 60)
    frame.iloc[:30].to_parquet(tmp_path / "data" / "part-0.parquet", index=False)
    frame.iloc[30:].to_parquet(tmp_path / "data" / "part-1.parquet", index=False)
    spark, duck = both(monkeypatch, tmp_path, SUITE, FileSource(name="rows", path="data"))
    assert duck.failures and any(c.failing_rows for c in duck.checks)
    assert_same(spark, duck)


def test_a_partitioned_delta_source_agrees(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # The partition columns (b, split) live in the table's log, not in its files: Spark gets
    # them from the log, and every check over them agrees with DuckDB's.
    from deltalake import write_deltalake

    (tmp_path / "cairn.yaml").write_text("project: t\n")
    frame = random_rows(2, 60)
    write_deltalake(str(tmp_path / "delta"), frame, partition_by=["b", "split"])
    source = FileSource(name="rows", path="delta", file_format="delta")
    spark, duck = both(monkeypatch, tmp_path, SUITE, source)
    assert duck.rows == 60 and duck.failures
    assert_same(spark, duck)
