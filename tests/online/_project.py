"""A tiny project with a snapshot view and a windowed view over one event table."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cairn import Aggregation, Entity, FeatureStore, FeatureView, Field, FileSource

T0 = pd.Timestamp("2026-01-01", tz="UTC")
ENTITY = Entity(name="k", join_keys=["k"])
SOURCE = FileSource(path="rows.parquet", created_timestamp_column="created_timestamp")
SNAPSHOT = FeatureView(
    name="snap",
    entities=[ENTITY],
    source=SOURCE,
    ttl="40s",
    schema=[Field(name="x", dtype="float64"), Field(name="tag", dtype="string")],
)
WINDOWED = FeatureView(
    name="win",
    entities=[ENTITY],
    source=SOURCE,
    aggregations=[
        Aggregation("x", "sum", "60s", hop="10s"),
        Aggregation("x", "count", "30s", hop="10s"),
        Aggregation("x", "mean", "60s", hop="20s"),
        Aggregation("x", "max", "20s", hop="0s"),
        Aggregation("x", "last", "60s", hop="10s"),
        Aggregation("x", "std", "60s", hop="10s"),
        Aggregation("n", "sum", "40s", hop="10s", name="n_total"),
    ],
)
REFS = ["snap:x", "snap:tag"] + [f"win:{a.name}" for a in WINDOWED.aggregations]


def seconds(s: float) -> pd.Timestamp:
    """T0 plus ``s`` seconds."""
    return T0 + pd.Timedelta(seconds=s)


def write_rows(repo: Path, rows: list[tuple[int, float, float, float | None, int]]) -> None:
    """Rows of (key, event s, created s, x, n) written in the given (ingestion) order."""
    frame = pd.DataFrame(
        {
            "k": pd.Series([r[0] for r in rows], dtype="int64"),
            "event_timestamp": pd.Series(
                [seconds(r[1]) for r in rows], dtype="datetime64[us, UTC]"
            ),
            "created_timestamp": pd.Series(
                [seconds(r[2]) for r in rows], dtype="datetime64[us, UTC]"
            ),
            "x": pd.Series([r[3] for r in rows], dtype="float64"),
            "tag": pd.Series([f"t{i}" for i in range(len(rows))], dtype="string"),
            "n": pd.Series([r[4] for r in rows], dtype="int64"),
        }
    )
    frame.to_parquet(repo / "rows.parquet", index=False)


def open_store(repo: Path) -> FeatureStore:
    """A store with both views applied."""
    store = FeatureStore(repo)
    store.apply([SNAPSHOT, WINDOWED])
    return store


def offline_at(store: FeatureStore, keys: list[int], at: pd.Timestamp) -> pd.DataFrame:
    """The offline point-in-time values of every ref for ``keys`` at ``at``."""
    entities = pd.DataFrame({"k": keys, "event_timestamp": [at] * len(keys)})
    return store.get_historical_features(entities, REFS).to_df()
