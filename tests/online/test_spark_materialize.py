"""Materialization on the Spark engine: the same views, materialized by DuckDB and by Spark
(``local[2]``) into two online stores, leave the same records and tiles, row for row.

Covered: a Parquet folder of several files (ingestion order across files), ties on event time,
late rows picked up by an incremental run, new files taken by an incremental run whatever their
created time (``__file``), an explicit range, a stream processor's key share (``partitions``),
snapshot values of every dtype (JSON-encoded by the same DuckDB code on both engines) and every
aggregation's tile state (floats to 1e-9 relative: the engines sum in different orders).
"""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from cairn import Aggregation, Entity, FeatureStore, FeatureView, Field, FileSource
from cairn.core.online import OnlineStore
from cairn.online.materialize import Materializer, Range, hop_groups, storage_name
from tests.offline._engines import store_for

pytestmark = pytest.mark.spark

T0 = pd.Timestamp("2026-01-01", tz="UTC")
KEY = Entity(name="k", join_keys=["k"])
SOURCE = FileSource(path="rows", created_timestamp_column="created_timestamp")
SNAP = FeatureView(
    name="snap",
    entities=[KEY],
    source=SOURCE,
    schema=[
        Field(name="x", dtype="float64"),
        Field(name="tag", dtype="string"),
        Field(name="n", dtype="int64"),
        Field(name="ok", dtype="bool"),
        Field(name="seen_at", dtype="timestamp"),
    ],
)
WIN = FeatureView(
    name="win",
    entities=[KEY],
    source=SOURCE,
    aggregations=[
        Aggregation("x", "sum", "60s", hop="10s"),
        Aggregation("x", "count", "30s", hop="10s"),
        Aggregation("x", "mean", "60s", hop="20s"),
        Aggregation("x", "min", "20s", hop="0s"),
        Aggregation("x", "max", "20s", hop="0s"),
        Aggregation("x", "last", "60s", hop="10s"),
        Aggregation("tag", "last", "60s", hop="10s", name="tag_last"),
        Aggregation("x", "std", "60s", hop="10s"),
        Aggregation("n", "sum", "40s", hop="10s", name="n_total"),
    ],
)
KEYS = [str(k) for k in range(1, 7)]


def at(s: float) -> pd.Timestamp:
    return T0 + pd.Timedelta(seconds=s)


def rows(rng: random.Random, count: int, first_s: int, late: bool = False) -> pd.DataFrame:
    """``count`` random rows from ``first_s`` on: few keys, event-time ties, missing values."""
    events = [first_s + rng.randrange(0, 40) for _ in range(count)]
    created = [e + (rng.randrange(0, 60) if late else rng.choice([0, 0, 3])) for e in events]
    xs = [rng.choice([None, math.nan, round(rng.uniform(-5, 50), 3)]) for _ in range(count)]
    return pd.DataFrame(
        {
            "k": pd.Series([rng.randrange(1, 7) for _ in range(count)], dtype="int64"),
            "event_timestamp": pd.Series([at(e) for e in events], dtype="datetime64[us, UTC]"),
            "created_timestamp": pd.Series([at(c) for c in created], dtype="datetime64[us, UTC]"),
            "x": pd.Series(xs, dtype="float64"),
            "tag": pd.Series([rng.choice(["a", "b", None]) for _ in range(count)], dtype="string"),
            "n": pd.Series([rng.randrange(-3, 9) for _ in range(count)], dtype="int64"),
            "ok": pd.Series([rng.choice([True, False]) for _ in range(count)], dtype="bool"),
            "seen_at": pd.Series(
                [at(rng.randrange(0, 500)) for _ in range(count)], dtype="datetime64[us, UTC]"
            ),
        }
    )


def write(roots: list[Path], name: str, frame: pd.DataFrame) -> None:
    for root in roots:
        (root / "rows").mkdir(exist_ok=True)
        frame.to_parquet(root / "rows" / name, index=False)


def contents(store: FeatureStore) -> dict[str, Any]:
    """Every record and tile of both views, by storage."""
    online: OnlineStore = store.online.store
    out: dict[str, Any] = {}
    for name in ("snap",):
        records = online.read(storage_name(store.project, name), KEYS)
        out[name] = [None if r is None else (r.key, r.order, r.values) for r in records]
    for name in ("win", "win@part"):
        for group in hop_groups(WIN):
            tiles = online.read_tiles(storage_name(store.project, name), group, KEYS, 0, 2**62)
            out[f"{name}/{group}"] = [
                [(t.key, t.start, t.asof, sorted(t.states.items())) for t in per_key]
                for per_key in tiles
            ]
    return out


def close(a: Any, b: Any) -> bool:
    """Equal, floats to 1e-9 relative (NaN equals NaN)."""
    if isinstance(a, float) and isinstance(b, (float, int)):
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and len(a) == len(b):
        return all(close(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def test_spark_materializes_the_same_records_and_tiles_as_duckdb(tmp_path: Path) -> None:
    rng = random.Random(7)
    roots = [tmp_path / "duckdb", tmp_path / "spark"]
    for root in roots:
        root.mkdir()
        (root / "cairn.yaml").write_text("project: t\n")
    write(roots, "part-0.parquet", rows(rng, 40, 0))
    write(roots, "part-1.parquet", rows(rng, 30, 20))
    stores = [
        store_for(root, engine) for root, engine in zip(roots, ("duckdb", "spark"), strict=True)
    ]
    for store in stores:
        store.apply([KEY, SNAP, WIN])
        store.materialize(at(0).to_pydatetime(), at(45).to_pydatetime())  # an explicit range
        store.materialize_incremental(at(70).to_pydatetime())
    write(roots, "part-2.parquet", rows(rng, 30, 30, late=True))  # late rows and a new file
    for store in stores:
        results = store.materialize_incremental(at(90).to_pydatetime())
        assert {r.view for r in results} == {"snap", "win"}
        runner = Materializer(store.settings.offline, store.root, store.online.store, "t")
        end = int(at(90).value // 1000)  # one stream processor's share of the keys
        runner.run(WIN, Range(end=end), storage=storage_name("t", "win@part"), partitions=([1], 2))
    duck, spark = (contents(store) for store in stores)
    assert sum(r is not None for r in duck["snap"]) == len(KEYS)
    assert all(all(duck[f"win/{group}"]) for group in hop_groups(WIN))
    shared = [any(duck[f"win@part/{g}"][i] for g in hop_groups(WIN)) for i in range(len(KEYS))]
    assert 0 < sum(shared) < len(KEYS)
    for name in duck:
        assert close(spark[name], duck[name]), name
