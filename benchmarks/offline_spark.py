"""Offline engines benchmark: the same training set built by DuckDB and by Spark (local master).

What is measured: ``FeatureStore.get_historical_features(...).to_df()`` of one project whose
``offline.engine`` is ``duckdb`` or ``spark``, over the training-set benchmark's seeded data
(``_ts_data.py``: view ``txn_profile`` 2M rows with a created column and corrections, view
``account`` 200k rows without one; 100k customers) plus a windowed view over ``txn_profile``
(sum and count of ``f1`` over 7 days, daily hop). Entity rows: the data set's 1M rows, and for
larger counts that frame repeated with each copy shifted by 1 µs per copy (so rows stay distinct).

How: one process; the Spark session is started (and one small training set built, so the JVM is
warm) before any clock runs, its start-up time printed apart. Each engine makes ``--repeat``
calls per size, best reported. The two frames are compared row for row (same columns, dtypes and
values, floats to 1e-9) before any time is printed. Ratio: Spark time / DuckDB time.

Usage: ``python benchmarks/offline_spark.py [--quick] [--rows 1000000,10000000]
[--master local[2]] [--driver-memory 4g] [--repeat 2]``. ``--quick``: 10x smaller data and
100k entity rows. The last line printed is ``BENCH_JSON {...}``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import pandas as pd  # noqa: E402
from _report import (  # noqa: E402
    cell,
    load_note,
    open_run,
    print_bench_json,
    print_table,
    run_facts,
    versions_of,
)
from _ts_contenders import FEATURE_REFS  # noqa: E402
from _ts_data import A_FEATURES, B_FEATURES, DataSet, ensure_data, read_entity_df  # noqa: E402

DATA_ROOT = HERE / ".data" / "training_set"
PACKAGES = ("cairn", "duckdb", "pyspark", "pyarrow", "pandas")
WINDOW_REFS = ["txn_window:f1_sum_7d", "txn_window:f1_count_7d"]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="10x smaller data, 100k entity rows")
    p.add_argument("--rows", default=None, help="entity row counts, comma-separated")
    p.add_argument("--master", default="local[2]", help="Spark master (default local[2])")
    p.add_argument("--driver-memory", default="4g", help="Spark driver memory (default 4g)")
    p.add_argument("--repeat", type=int, default=2, help="calls per engine and size, best kept")
    return p.parse_args(argv)


def make_project(data: DataSet, root: Path, engine: str, master: str, memory: str) -> Any:
    """A project over the data set's sources with ``offline.engine: engine``, applied."""
    from cairn import Aggregation, Entity, FeatureStore, FeatureView, Field, FileSource

    (root / "cairn.yaml").write_text(
        f"project: bench\noffline:\n  engine: {engine}\n  spark_master: {master}\n"
        f"  spark_driver_memory: {memory}\n",
        encoding="utf-8",
    )
    store = FeatureStore(root)
    customer = Entity(name="customer", join_keys=["customer_id"])
    a_src = FileSource(
        path=str(data.txn_profile),
        timestamp_field="event_timestamp",
        created_timestamp_column="created_timestamp",
    )
    b_src = FileSource(path=str(data.account), timestamp_field="event_timestamp")
    float_fields = [Field(name=f, dtype="float64") for f in A_FEATURES]
    views = [
        FeatureView(name="txn_profile", entities=[customer], source=a_src, schema=float_fields),
        FeatureView(
            name="account",
            entities=[customer],
            source=b_src,
            schema=[
                Field(name=B_FEATURES[0], dtype="float64"),
                Field(name=B_FEATURES[1], dtype="int64"),
                Field(name=B_FEATURES[2], dtype="string"),
            ],
        ),
        FeatureView(
            name="txn_window",
            entities=[customer],
            source=a_src,
            aggregations=[Aggregation("f1", f, "7d", hop="1d") for f in ("sum", "count")],
        ),
    ]
    store.apply([customer, *views])
    return store


def entity_rows(base: pd.DataFrame, n: int) -> pd.DataFrame:
    """``n`` entity rows: ``base`` cut or repeated, copy ``i`` shifted by ``i`` µs."""
    copies = []
    for i in range(-(-n // len(base))):
        part = base.copy()
        part["event_timestamp"] = part["event_timestamp"] + pd.Timedelta(microseconds=i)
        copies.append(part)
    return pd.concat(copies, ignore_index=True).iloc[:n].reset_index(drop=True)


def best_of(store: Any, frame: pd.DataFrame, repeat: int) -> tuple[float, list[float], Any]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = store.get_historical_features(frame, FEATURE_REFS + WINDOW_REFS).to_df()
        times.append(time.perf_counter() - t0)
    return min(times), times, out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    machine, data = open_run("offline engines", args.quick, DATA_ROOT, ensure_data)
    default = "100000" if args.quick else "1000000"
    sizes = [int(s) for s in (args.rows or default).split(",")]
    base = read_entity_df(data)
    load_before = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="cairn_offline_spark_"))
    duck_root, spark_root = work / "duckdb", work / "spark"
    duck_root.mkdir()
    spark_root.mkdir()
    duck = make_project(data, duck_root, "duckdb", args.master, args.driver_memory)
    spark = make_project(data, spark_root, "spark", args.master, args.driver_memory)
    t0 = time.perf_counter()
    spark.get_historical_features(base.iloc[:1000], FEATURE_REFS + WINDOW_REFS).to_df()
    spark_start = time.perf_counter() - t0
    print(f"spark {args.master}: session start and first small call {spark_start:.1f} s")
    rows, results = [], []
    for n in sizes:
        frame = entity_rows(base, n)
        d_best, d_times, d_out = best_of(duck, frame, args.repeat)
        s_best, s_times, s_out = best_of(spark, frame, args.repeat)
        pd.testing.assert_frame_equal(s_out, d_out, check_exact=False, rtol=1e-9, atol=1e-12)
        ratio = s_best / d_best
        rows.append(
            [f"{n:,}", cell(d_best, ".2f"), cell(s_best, ".2f"), cell(ratio, ".1f", "x"), "yes"]
        )
        results.append(
            {"rows": n, "duckdb_s": d_times, "spark_s": s_times, "spark_over_duckdb": ratio}
        )
        del frame, d_out, s_out
    load_after = os.getloadavg()
    print_table(
        f"training set, {len(FEATURE_REFS)} snapshot + {len(WINDOW_REFS)} windowed features "
        f"(best of {args.repeat})",
        ["entity rows", "duckdb s", f"spark {args.master} s", "spark/duckdb", "same rows"],
        rows,
    )
    print(load_note(load_before, load_after))
    print_bench_json(
        {
            "benchmark": "offline_spark",
            "master": args.master,
            "spark_start_s": spark_start,
            "results": results,
            **run_facts(machine, versions_of(PACKAGES), (load_before, load_after)),
        }
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
