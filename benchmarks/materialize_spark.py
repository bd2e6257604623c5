"""Materialization input benchmark: what a full materialization run reads, computed by DuckDB
and by Spark (local master), without the online store write (the same code on both engines).

What is measured: for a source of ``--rows`` seeded rows (``--keys`` keys, a created column,
two Parquet files) and a run over all of it, the time to compute (1) a snapshot view's winning
row per key (4 feature columns) and (2) a windowed view's tile states (sum, count, mean, last
over 1 day, hourly tiles), each through :func:`cairn.offline.select.source_query` and fetched
into the DuckDB connection as the materializer does. Both engines' rows are compared (same rows,
floats to 1e-9 relative) before any time is printed.

How: one process; the Spark session is started and warmed (one small query) before any clock
runs, its start-up printed apart; best of ``--repeat`` per engine.

Usage: ``python benchmarks/materialize_spark.py [--rows 1000000] [--keys 100000]
[--master local[2]] [--driver-memory 4g] [--repeat 2]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from cairn import Aggregation, Entity, FeatureView, Field, FileSource
from cairn.core.config import OfflineSettings
from cairn.offline.select import source_query
from cairn.offline.validate import check_view
from cairn.online.materialize import Range, hop_groups, snapshot_sql, tiles_sql

KEY = Entity(name="k", join_keys=["k"])
SOURCE = FileSource(path="rows", created_timestamp_column="created_timestamp")
SNAP = FeatureView(
    name="snap",
    entities=[KEY],
    source=SOURCE,
    schema=[
        Field(name=f, dtype=t)
        for f, t in (("x", "float64"), ("n", "int64"), ("tag", "string"), ("y", "float64"))
    ],
)
WIN = FeatureView(
    name="win",
    entities=[KEY],
    source=SOURCE,
    aggregations=[Aggregation("x", f, "1d", hop="1h") for f in ("sum", "count", "mean", "last")],
)


def write_data(root: Path, rows: int, keys: int) -> int:
    """Seeded rows over 30 days in two files; returns the run's end (µs): the last day's
    tiles are the ones a full run computes."""
    rng = np.random.default_rng(7)
    start = pd.Timestamp("2026-01-01", tz="UTC")
    ev = start + pd.to_timedelta(rng.integers(0, 30 * 86_400_000_000, rows), unit="us")
    frame = pd.DataFrame(
        {
            "k": rng.integers(0, keys, rows),
            "event_timestamp": ev,
            "created_timestamp": ev
            + pd.to_timedelta(rng.integers(0, 3_600_000_000, rows), unit="us"),
            "x": rng.normal(50, 20, rows).round(2),
            "n": rng.integers(0, 100, rows),
            "tag": rng.choice(["a", "b", "c"], rows),
            "y": rng.random(rows),
        }
    )
    (root / "rows").mkdir()
    half = rows // 2
    frame.iloc[:half].to_parquet(root / "rows" / "part-0.parquet", index=False)
    frame.iloc[half:].to_parquet(root / "rows" / "part-1.parquet", index=False)
    return int((start + pd.Timedelta(days=30)).value // 1000)


def compute(
    settings: OfflineSettings, root: Path, end: int
) -> tuple[float, pd.DataFrame, pd.DataFrame]:
    """Seconds to compute both inputs, and the two inputs (sorted)."""
    span = Range(end=end)
    began = time.perf_counter()
    query = source_query(settings, root, SOURCE)
    try:
        winners = query.local(snapshot_sql(SNAP, span, query.view, query.dialect))
        snap = query.con.sql(f"SELECT * FROM {winners} ORDER BY __key").df()
        (aggs,) = hop_groups(WIN).values()
        dtypes = check_view(WIN, query.relation.columns)
        states = query.local(tiles_sql(WIN, aggs, span, dtypes, query.view, query.dialect))
        tiles = query.con.sql(f"SELECT * FROM {states} ORDER BY __key, __tile").df()
    finally:
        query.close()
    return time.perf_counter() - began, snap, tiles


def main() -> None:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--keys", type=int, default=100_000)
    p.add_argument("--master", default="local[2]")
    p.add_argument("--driver-memory", default="4g")
    p.add_argument("--repeat", type=int, default=2)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        end = write_data(root, args.rows, args.keys)
        duck = OfflineSettings()
        spark = OfflineSettings(
            engine="spark", spark_master=args.master, spark_driver_memory=args.driver_memory
        )
        from cairn.offline.spark import spark_session

        began = time.perf_counter()
        spark_session(spark).sql("SELECT 1").collect()
        print(f"spark session start: {time.perf_counter() - began:.1f} s")
        results = {}
        for name, settings in (("duckdb", duck), ("spark", spark)):
            runs = [compute(settings, root, end) for _ in range(args.repeat)]
            results[name] = (min(r[0] for r in runs), runs[0][1], runs[0][2])
        for i, what in ((1, "snapshot"), (2, "tiles")):
            a = results["duckdb"][i].reset_index(drop=True)
            b = results["spark"][i].reset_index(drop=True)
            if what == "tiles":
                for j in range(len(WIN.aggregations)):  # states as text: lists and structs
                    a[f"__s{j}"] = a[f"__s{j}"].map(str)
                    b[f"__s{j}"] = b[f"__s{j}"].map(str)
                cols = ["__key", "__tile", "__s1"]  # exact columns; floats vary in the last bits
                pd.testing.assert_frame_equal(a[cols], b[cols], check_dtype=False)
            else:
                pd.testing.assert_frame_equal(a, b, check_dtype=False)
            print(f"{what}: {len(a)} rows, same rows")
        d, s = results["duckdb"][0], results["spark"][0]
        print(
            f"rows={args.rows} keys={args.keys}: duckdb {d:.2f} s, spark {s:.2f} s, "
            f"ratio {s / d:.1f}x"
        )


if __name__ == "__main__":
    main()
