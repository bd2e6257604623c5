"""The Spark offline engine on what the property tests do not vary: Delta, CSV and multi-file
Parquet sources, naive timestamps in a zone, entity rows from a file or SQL, snapshot and
windowed views over one source in one call, the job's other outputs, the setting, and the
errors. Every Spark frame is first checked equal to DuckDB's row for row
(:func:`tests.offline._engines.training_frame`), then against values written out by hand.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cairn import Aggregation, Entity, FeatureStore, FeatureView, Field, FileSource
from cairn.core.config import OfflineSettings
from cairn.core.errors import DependencyMissingError
from cairn.offline.engine import OfflineEngine
from cairn.offline.spark import SparkEngine, spark_session
from tests.offline._engines import store_for, training_frame
from tests.offline._oracle import (
    CREATED_COLUMN,
    EVENT_COLUMN,
    SECOND,
    T0,
    Query,
    SourceRow,
    assert_frame,
    entity_frame,
    write_source,
)

K = Entity(name="k", join_keys=["k"])
KEYS = [("k", pa.string())]
X = [("x", pa.float64())]


def row(key: str, event_s: int, created_s: int | None = None, x: float | None = None) -> SourceRow:
    return SourceRow(
        (key,),
        T0 + event_s * SECOND,
        None if created_s is None else T0 + created_s * SECOND,
        {"x": x},
    )


def table_of(rows: Sequence[SourceRow], path: Path, *, has_created: bool = False) -> pa.Table:
    """``rows`` as the Arrow table :func:`write_source` writes (written to ``path`` too)."""
    write_source(path, rows, keys=KEYS, values=X, has_created=has_created)
    return pq.read_table(path)


def snapshot(path: str, *, has_created: bool = False, **source: str) -> FeatureView:
    src = FileSource(
        path=path,
        timestamp_field=EVENT_COLUMN,
        created_timestamp_column=CREATED_COLUMN if has_created else None,
        **source,  # type: ignore[arg-type]
    )
    return FeatureView(
        name="v", entities=[K], source=src, schema=[Field(name="x", dtype="float64")]
    )


def at(key: str, *seconds: float) -> list[Query]:
    return [Query((key,), T0 + round(s * SECOND)) for s in seconds]


def spark_values(root: Path, view: FeatureView, queries: Sequence[Query]) -> pd.Series:
    FeatureStore(root).apply([K, view])
    entity_df = entity_frame(queries, ["k"])
    out = training_frame(root, entity_df, ["v:x"], "spark")
    return out["x"]


@pytest.mark.spark
def test_delta_reads_the_files_of_the_current_version_only(project: Path) -> None:
    from deltalake import write_deltalake

    folder = project / "delta"
    write_deltalake(str(folder), table_of([row("a", 0, x=1.0)], project / "t.parquet"))
    # overwrite: the first file stays on disk, removed from the table by the log; then an append
    write_deltalake(
        str(folder), table_of([row("a", 0, x=10.0)], project / "t.parquet"), mode="overwrite"
    )
    write_deltalake(
        str(folder),
        table_of([row("a", 2, x=20.0), row("b", 2, x=5.0)], project / "t.parquet"),
        mode="append",
    )
    assert len(list(folder.glob("*.parquet"))) == 3
    got = spark_values(project, snapshot("delta"), [*at("a", 0, 0.000001, 9), *at("b", 3)])
    assert got.tolist()[1:] == [10.0, 20.0, 5.0] and pd.isna(got.iloc[0])


@pytest.mark.spark
def test_partitioned_delta_reads_its_partition_values_from_the_log(project: Path) -> None:
    # A partitioned table's files lack the partition columns: the key (the view's join key)
    # and a date column, one of them null, come from the log, typed as the table says.
    from deltalake import write_deltalake

    rows = [row("a", 0, x=1.0), row("a", 4, x=2.0), row("b", 1, x=3.0), row("c", 2, x=4.0)]
    table = table_of(rows, project / "t.parquet")
    day = pa.array([date(2026, 1, 1), date(2026, 1, 2), None, date(2026, 1, 1)], pa.date32())
    write_deltalake(
        str(project / "delta"), table.append_column("day", day), partition_by=["k", "day"]
    )
    assert not list((project / "delta").glob("*.parquet"))  # every file in a partition folder
    got = spark_values(project, snapshot("delta"), [*at("a", 1, 5), *at("b", 2), *at("c", 3)])
    assert got.tolist() == [1.0, 2.0, 3.0, 4.0]
    from cairn.offline.spark.sources import delta_frame

    frame = delta_frame(spark_session(OfflineSettings(engine="spark")), project / "delta")
    days = {r["k"]: r["day"] for r in frame.select("k", "day").collect()}
    assert frame.schema["day"].dataType.simpleString() == "date"
    assert days == {"a": days["a"], "b": None, "c": date(2026, 1, 1)} and days["a"] is not None


@pytest.mark.spark
def test_parquet_folder_ties_go_to_the_later_file_by_name(project: Path) -> None:
    (project / "rows").mkdir()
    table_of([row("a", 0, x=2.0)], project / "rows" / "part-1.parquet")
    table_of([row("a", 0, x=1.0), row("b", 1, x=3.0)], project / "rows" / "part-0.parquet")
    got = spark_values(project, snapshot("rows"), [*at("a", 1), *at("b", 1, 2)])
    assert got.tolist()[0] == 2.0 and pd.isna(got.iloc[1]) and got.iloc[2] == 3.0


@pytest.mark.spark
def test_csv_source_with_created_column(project: Path) -> None:
    rows = [row("a", 0, 0, x=1.0), row("a", 5, 30, x=2.0), row("a", 6, 6, x=None)]
    frame = table_of(rows, project / "t.parquet", has_created=True).to_pandas()
    frame.to_csv(project / "rows.csv", index=False)
    got = spark_values(project, snapshot("rows.csv", has_created=True), at("a", 1, 6.5, 31))
    assert got.tolist()[0] == 1.0 and pd.isna(got.iloc[1]) and pd.isna(got.iloc[2])


@pytest.mark.spark
@pytest.mark.parametrize(("zone", "hours"), [("UTC", 0), ("Europe/Paris", 1)])
def test_naive_timestamps_read_in_the_declared_zone(project: Path, zone: str, hours: int) -> None:
    # the file says 2024-01-01 00:00 + hours, wall-clock time in ``zone``: T0 in UTC
    naive = pa.array([T0 + hours * 3600 * SECOND], pa.int64()).cast(pa.timestamp("us"))
    pq.write_table(pa.table({"k": ["a"], EVENT_COLUMN: naive, "x": [1.5]}), project / "n.parquet")
    got = spark_values(project, snapshot("n.parquet", timezone=zone), at("a", 0, 0.000001))
    assert pd.isna(got.iloc[0]) and got.iloc[1] == 1.5


@pytest.mark.spark
def test_entity_rows_from_a_parquet_file_and_from_sql(project: Path) -> None:
    table_of(
        [row("a", 0, x=1.0), row("a", 10, x=2.0), row("b", 3, x=4.0)], project / "rows.parquet"
    )
    FeatureStore(project).apply([K, snapshot("rows.parquet")])
    entity_frame([*at("a", 5, 11), *at("b", 4)], ["k"]).to_parquet(project / "entities.parquet")
    from_file = training_frame(project, str(project / "entities.parquet"), ["v:x"], "spark")
    assert from_file["x"].tolist() == [1.0, 2.0, 4.0]
    sql = (
        "SELECT k, event_timestamp + INTERVAL 1 SECOND AS event_timestamp FROM rows "
        "ORDER BY k, event_timestamp"
    )
    from_sql = training_frame(project, sql, ["v:x"], "spark")
    assert from_sql["x"].tolist() == [1.0, 2.0, 4.0]


@pytest.mark.spark
def test_snapshot_and_windowed_views_of_one_source_in_one_call(project: Path) -> None:
    rows = [
        row("a", 0, 0, x=1.0),
        row("a", 10, 10, x=2.0),
        row("a", 20, 50, x=4.0),
        row("b", 5, 5, x=8.0),
    ]
    write_source(project / "rows.parquet", rows, keys=KEYS, values=X, has_created=True)
    src = FileSource(
        path="rows.parquet", timestamp_field=EVENT_COLUMN, created_timestamp_column=CREATED_COLUMN
    )
    snap = FeatureView(
        name="v", entities=[K], source=src, schema=[Field(name="x", dtype="float64")], ttl="40s"
    )
    win = FeatureView(
        name="w",
        entities=[K],
        source=src,
        aggregations=[Aggregation("x", f, "60s", hop="0s") for f in ("sum", "count", "last")],
    )
    FeatureStore(project).apply([K, snap, win])
    queries = [*at("a", 5, 21, 26, 51, 61), *at("b", 6), *at("zz", 6)]
    entity_df = entity_frame(queries, ["k"])
    refs = ["w:x_sum_60s", "v:x", "w:x_last_60s", "w:x_count_60s"]
    out = training_frame(project, entity_df, refs, "spark")
    assert_frame(
        out,
        entity_df,
        {
            "x_sum_60s": [1.0, 3.0, 3.0, 7.0, 6.0, 8.0, 0.0],
            "x": [1.0, 2.0, 2.0, 4.0, None, 8.0, None],
            "x_last_60s": [1.0, 2.0, 2.0, 4.0, 4.0, 8.0, None],
            "x_count_60s": [1, 2, 2, 3, 2, 1, 0],
        },
    )


@pytest.mark.spark
def test_arrow_parquet_manifest_and_empty_rows_match_duckdb(project: Path) -> None:
    table_of([row("a", 0, x=1.0), row("b", 3, x=4.0)], project / "rows.parquet")
    FeatureStore(project).apply([K, snapshot("rows.parquet")])
    entity_df = entity_frame([*at("a", 5), *at("b", 1, 4)], ["k"], extra={"label": [1, 0, 1]})
    duck = store_for(project, "duckdb").get_historical_features(entity_df, ["v:x"])
    spark = store_for(project, "spark").get_historical_features(entity_df, ["v:x"])
    assert "last(__hit, true)" in spark.sql and "ASOF" in duck.sql
    assert spark.to_arrow().equals(duck.to_arrow())
    assert pq.read_table(spark.to_parquet(project / "s.parquet")).equals(
        pq.read_table(duck.to_parquet(project / "d.parquet"))
    )
    same = ("row_count", "entity", "sources", "feature_views", "feature_refs")
    assert {k: getattr(spark.manifest, k) for k in same} == {
        k: getattr(duck.manifest, k) for k in same
    }
    assert spark.manifest.row_count == 3
    empty = entity_frame([], ["k"]).astype({"k": "str"})
    out = training_frame(project, empty, ["v:x"], "spark")
    assert list(out.columns) == ["k", EVENT_COLUMN, "x"] and len(out) == 0


def test_the_setting_selects_the_engine(project: Path) -> None:
    assert isinstance(FeatureStore(project).training, OfflineEngine)
    (project / "cairn.yaml").write_text(
        "project: t\noffline:\n  engine: spark\n  spark_master: local[2]\n"
    )
    store = FeatureStore(project)
    assert isinstance(store.training, SparkEngine)
    assert store.settings.offline.spark_master == "local[2]"


def test_without_pyspark_one_error_names_the_extra(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table_of([row("a", 0, x=1.0)], project / "rows.parquet")
    FeatureStore(project).apply([K, snapshot("rows.parquet")])
    monkeypatch.setitem(sys.modules, "pyspark", None)  # import pyspark now raises ImportError
    store = store_for(project, "spark")
    with pytest.raises(DependencyMissingError, match=r"pip install 'cairn\[spark\]'"):
        store.get_historical_features(entity_frame(at("a", 1), ["k"]), ["v:x"])


@pytest.mark.spark
def test_one_session_serves_every_thread() -> None:
    settings = OfflineSettings(engine="spark", spark_master="local[2]")
    main = spark_session(settings)
    with ThreadPoolExecutor(1) as pool:
        other = pool.submit(spark_session, settings).result()
    assert other is main
    assert main.conf.get("spark.sql.session.timeZone") == "UTC"
