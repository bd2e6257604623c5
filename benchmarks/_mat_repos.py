"""Project folders of the online benchmarks: the same two views, defined for Cairn and Feast.

Both definitions read the Parquet files of :mod:`_mat_data` and have no TTL. ``cairn_repo`` and
``feast_repo`` create the folder, write its configuration and ``apply`` the views; they return
the store object. The folders persist, so ``cairn serve`` / ``feast serve`` can open them later.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from _mat_data import A_FEATURES, A_VIEW, B_FEATURES, B_VIEW, DataSet

PROJECT = "bench"


def feature_refs(views: int) -> list[str]:
    """``view:feature`` references of view A (``views == 1``) or of both views."""
    refs = [f"{A_VIEW}:{f}" for f in A_FEATURES]
    if views == 2:
        refs += [f"{B_VIEW}:{f}" for f in B_FEATURES]
    return refs


def cairn_repo(data: DataSet, repo: Path, online_url: str | None = None) -> Any:
    """A Cairn project over the data (SQLite online store unless ``online_url``), applied."""
    from cairn import Entity, FeatureStore, FeatureView, Field, FileSource

    repo.mkdir(parents=True, exist_ok=True)
    config = f"project: {PROJECT}\n"
    if online_url:
        config += f"online:\n  url: {online_url}\n"
    (repo / "cairn.yaml").write_text(config)
    store = FeatureStore(str(repo))
    customer = Entity(name="customer", join_keys=["customer_id"])
    a_src = FileSource(
        path=str(data.a_path),
        timestamp_field="event_timestamp",
        created_timestamp_column="created_timestamp",
    )
    b_src = FileSource(path=str(data.b_path), timestamp_field="event_timestamp")
    views = [
        FeatureView(
            name=name,
            entities=[customer],
            source=src,
            schema=[Field(name=f, dtype="float64") for f in feats],
        )
        for name, src, feats in ((A_VIEW, a_src, A_FEATURES), (B_VIEW, b_src, B_FEATURES))
    ]
    store.apply([customer, *views])
    return store


def feast_repo(data: DataSet, repo: Path, redis: str | None = None) -> Any:
    """A Feast 0.67 project over the data: DuckDB offline store, SQLite online store (or Redis
    when ``redis`` is a connection string such as ``127.0.0.1:6379,db=1``), applied."""
    from feast import Entity, FeatureStore, FeatureView, Field, FileSource, ValueType
    from feast.types import Float64

    repo.mkdir(parents=True, exist_ok=True)
    if redis:
        online = f"online_store:\n  type: redis\n  connection_string: '{redis}'\n"
    else:
        online = f"online_store:\n  type: sqlite\n  path: {repo / 'online.db'}\n"
    (repo / "feature_store.yaml").write_text(
        f"project: {PROJECT}\n"
        f"registry: {repo / 'registry.db'}\n"
        "provider: local\n"
        f"{online}"
        "offline_store:\n  type: duckdb\n"
        "entity_key_serialization_version: 3\n"
    )
    store = FeatureStore(repo_path=str(repo))
    customer = Entity(name="customer", join_keys=["customer_id"], value_type=ValueType.INT64)
    a_src = FileSource(
        name=f"{A_VIEW}_src",
        path=str(data.a_path),
        timestamp_field="event_timestamp",
        created_timestamp_column="created_timestamp",
    )
    b_src = FileSource(
        name=f"{B_VIEW}_src", path=str(data.b_path), timestamp_field="event_timestamp"
    )
    no_ttl = timedelta(0)  # Feast: 0 means no TTL
    views = [
        FeatureView(
            name=name,
            entities=[customer],
            ttl=no_ttl,
            source=src,
            schema=[Field(name=f, dtype=Float64) for f in feats],
        )
        for name, src, feats in ((A_VIEW, a_src, A_FEATURES), (B_VIEW, b_src, B_FEATURES))
    ]
    store.apply([customer, *views])
    return store


def online_frame(result: dict[str, list[Any]], keys: list[int]) -> pd.DataFrame:
    """An online answer (``to_dict()`` of either system) as ``customer_id, f1..f5, g1..g5``."""
    out = pd.DataFrame({"customer_id": keys})
    for name in (*A_FEATURES, *B_FEATURES):
        col = _column(result, name)
        out[name] = pd.to_numeric(pd.Series(result[col], dtype="object"), errors="coerce")
    return out


def _column(result: dict[str, list[Any]], name: str) -> str:
    if name in result:
        return name
    hits = [c for c in result if c.endswith((f"__{name}", f":{name}"))]
    if len(hits) != 1:
        raise KeyError(f"online answer has no single column for {name!r}: {sorted(result)}")
    return hits[0]
