"""The contenders of the training-set benchmark: one setup function each.

A setup function does everything that is not the training-set call (imports, project folder,
registry, ``apply``) and returns the call itself, which the child process times. Every call gets
the same in-memory pandas entity frame and must return a pandas DataFrame; it includes reading the
feature Parquet files. Results are renamed to the canonical columns ``customer_id``,
``event_timestamp``, ``f1..f5``, ``a1..a3`` before they are saved for the checks.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from _ts_data import A_FEATURES, B_FEATURES, DataSet

Call = Callable[[pd.DataFrame], pd.DataFrame]
Setup = Callable[[DataSet, Path], Call]
KEYS = ("customer_id", "event_timestamp")
FEATURE_REFS = [f"txn_profile:{f}" for f in A_FEATURES] + [f"account:{f}" for f in B_FEATURES]


class ContenderUnavailable(RuntimeError):
    """The contender cannot run here (e.g. its API does not exist yet)."""


def setup_cairn(data: DataSet, work: Path) -> Call:
    """Cairn's FeatureStore over the two Parquet sources, applied in a fresh project folder."""
    try:
        from cairn import Entity, FeatureStore, FeatureView, Field, FileSource
    except ImportError as exc:
        raise ContenderUnavailable(f"cairn.FeatureStore is not importable yet: {exc}") from exc
    repo = Path(tempfile.mkdtemp(prefix="cairn_repo_", dir=work))
    (repo / "cairn.yaml").write_text("project: bench\n")
    store = FeatureStore(str(repo))
    customer = Entity(name="customer", join_keys=["customer_id"])
    a_src = FileSource(
        path=str(data.txn_profile),
        timestamp_field="event_timestamp",
        created_timestamp_column="created_timestamp",
    )
    b_src = FileSource(path=str(data.account), timestamp_field="event_timestamp")
    va = FeatureView(
        name="txn_profile",
        entities=[customer],
        source=a_src,
        schema=[Field(name=f, dtype="float64") for f in A_FEATURES],
    )
    vb = FeatureView(
        name="account",
        entities=[customer],
        source=b_src,
        schema=[
            Field(name="a1", dtype="float64"),
            Field(name="a2", dtype="int64"),
            Field(name="a3", dtype="string"),
        ],
    )
    store.apply([customer, va, vb])

    def call(entity_df: pd.DataFrame) -> pd.DataFrame:
        return store.get_historical_features(entity_df=entity_df, features=FEATURE_REFS).to_df()

    return call


def _feast_setup(offline_type: str, *, filter_by_created: bool = False) -> Setup:
    def setup(data: DataSet, work: Path) -> Call:
        return _feast(data, work, offline_type, filter_by_created)

    setup.__doc__ = f"Feast 0.67 with the {offline_type!r} offline store and a local registry."
    return setup


def _feast(data: DataSet, work: Path, offline_type: str, filter_by_created: bool) -> Call:
    from feast import Entity, FeatureStore, FeatureView, Field, FileSource, ValueType
    from feast.types import Float64, Int64, String

    repo = Path(tempfile.mkdtemp(prefix=f"feast_{offline_type}_", dir=work))
    (repo / "feature_store.yaml").write_text(
        "project: bench\n"
        f"registry: {repo / 'registry.db'}\n"
        "provider: local\n"
        f"online_store:\n  type: sqlite\n  path: {repo / 'online.db'}\n"
        f"offline_store:\n  type: {offline_type}\n"
        "entity_key_serialization_version: 3\n"
    )
    store = FeatureStore(repo_path=str(repo))
    customer = Entity(name="customer", join_keys=["customer_id"], value_type=ValueType.INT64)
    a_src = FileSource(
        name="txn_profile_src",
        path=str(data.txn_profile),
        timestamp_field="event_timestamp",
        created_timestamp_column="created_timestamp",
    )
    b_src = FileSource(
        name="account_src", path=str(data.account), timestamp_field="event_timestamp"
    )
    no_ttl = timedelta(0)  # Feast: 0 means no TTL
    va = FeatureView(
        name="txn_profile",
        entities=[customer],
        ttl=no_ttl,
        source=a_src,
        schema=[Field(name=f, dtype=Float64) for f in A_FEATURES],
    )
    vb = FeatureView(
        name="account",
        entities=[customer],
        ttl=no_ttl,
        source=b_src,
        schema=[
            Field(name="a1", dtype=Float64),
            Field(name="a2", dtype=Int64),
            Field(name="a3", dtype=String),
        ],
    )
    store.apply([customer, va, vb])
    extra = {"filter_by_created_timestamp": True} if filter_by_created else {}

    def call(entity_df: pd.DataFrame) -> pd.DataFrame:
        job = store.get_historical_features(entity_df=entity_df, features=FEATURE_REFS, **extra)
        df: pd.DataFrame = job.to_df()
        return df

    return call


def setup_pandas(data: DataSet, work: Path) -> Call:
    """pandas: read both files, merge_asof per view (strict <, created ignored), entity order."""

    def call(entity_df: pd.DataFrame) -> pd.DataFrame:
        left = entity_df[list(KEYS)].copy()
        left["_row"] = np.arange(len(left))
        left = left.sort_values("event_timestamp", kind="stable")
        for path, feats in ((data.txn_profile, A_FEATURES), (data.account, B_FEATURES)):
            right = pd.read_parquet(path, columns=[*KEYS, *feats])
            right = right.sort_values("event_timestamp", kind="stable")
            left = pd.merge_asof(
                left,
                right,
                on="event_timestamp",
                by="customer_id",
                direction="backward",
                allow_exact_matches=False,
            )
        return left.sort_values("_row").drop(columns="_row").reset_index(drop=True)

    return call


def setup_duckdb(data: DataSet, work: Path) -> Call:
    """Raw DuckDB: two ASOF LEFT JOINs on event time (strict >, no known-at cutoff)."""
    import duckdb

    a_cols = ", ".join(f"a.{f}" for f in A_FEATURES)
    b_cols = ", ".join(f"b.{f}" for f in B_FEATURES)
    sql = f"""
        SELECT e.customer_id, e.event_timestamp, {a_cols}, {b_cols}
        FROM entity_df e
        ASOF LEFT JOIN read_parquet('{data.txn_profile}') a
          ON e.customer_id = a.customer_id AND e.event_timestamp > a.event_timestamp
        ASOF LEFT JOIN read_parquet('{data.account}') b
          ON e.customer_id = b.customer_id AND e.event_timestamp > b.event_timestamp
        ORDER BY e._row
    """

    def call(entity_df: pd.DataFrame) -> pd.DataFrame:
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        frame = entity_df[list(KEYS)].assign(_row=np.arange(len(entity_df)))
        con.register("entity_df", frame)
        try:
            df: pd.DataFrame = con.sql(sql).df()
            return df
        finally:
            con.close()

    return call


CONTENDERS: dict[str, Setup] = {
    "cairn": setup_cairn,
    "feast-duckdb": _feast_setup("duckdb"),
    "feast-file": _feast_setup("file"),
    "feast-duckdb-created": _feast_setup("duckdb", filter_by_created=True),
    "pandas": setup_pandas,
    "duckdb-asof": setup_duckdb,
}

LABELS: dict[str, str] = {
    "cairn": "Cairn",
    "feast-duckdb": "Feast 0.67 DuckDB store",
    "feast-file": "Feast 0.67 file store (dask)",
    "feast-duckdb-created": "Feast DuckDB, filter_by_created",
    "pandas": "pandas read + merge_asof",
    "duckdb-asof": "raw DuckDB ASOF (no known-at)",
}


def canonical(df: pd.DataFrame) -> pd.DataFrame:
    """Keep the keys and the eight features under their plain names (``f1``, ..., ``a3``)."""
    out: dict[str, pd.Series] = {}
    for name in (*KEYS, *A_FEATURES, *B_FEATURES):
        out[name] = df[_find_column(df, name)]
    return pd.DataFrame(out).reset_index(drop=True)


def _find_column(df: pd.DataFrame, name: str) -> str:
    if name in df.columns:
        return name
    hits = [c for c in df.columns if str(c).endswith((f"__{name}", f":{name}", f".{name}"))]
    if len(hits) != 1:
        raise KeyError(f"result has no single column for {name!r}; columns: {list(df.columns)}")
    return str(hits[0])
