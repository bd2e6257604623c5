"""The contenders of the materialization benchmark: one setup function each.

A setup function builds a fresh project (folder, configuration, ``apply``), which is not timed,
and returns a :class:`Run`: ``materialize`` is the timed call (returning the rows it wrote when
the system reports them), ``written`` counts what is in the online store afterwards (untimed),
``online`` reads sampled keys back, and ``offline`` (Cairn only) is the point-in-time join at the
end time for the same keys.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from _mat_data import A_VIEW, B_VIEW, END, START, DataSet
from _mat_repos import PROJECT, cairn_repo, feast_repo, feature_refs, online_frame

FEAST_START = START - pd.Timedelta(days=1)  # before every event: Feast takes [start, end)
CAIRN_REDIS_DB, FEAST_REDIS_DB = 0, 1


class ContenderUnavailable(RuntimeError):
    """The contender cannot run here (no Redis server, missing client library)."""


@dataclass
class Run:
    """One fresh project, ready to materialize."""

    materialize: Callable[[], int | None]
    written: Callable[[], dict[str, int]]
    online: Callable[[list[int]], pd.DataFrame]
    offline: Callable[[list[int]], pd.DataFrame] | None = None


Setup = Callable[[DataSet, Path, int | None], Run]


def _cairn(data: DataSet, repo: Path, online_url: str | None) -> Run:
    store = cairn_repo(data, repo, online_url)
    end = END.to_pydatetime()
    counts: dict[str, int] = {}

    def materialize() -> int:
        results = store.materialize_incremental(end)
        counts.clear()
        counts.update({r.view: r.records for r in results})
        return sum(r.records for r in results)

    def online(keys: list[int]) -> pd.DataFrame:
        answer = store.get_online_features(feature_refs(2), {"customer_id": keys}, at=end)
        return online_frame(answer.to_dict(), keys)

    def offline(keys: list[int]) -> pd.DataFrame:
        # microsecond resolution: see the note on TIMESTAMPTZ_NS in materialize.py's docstring
        stamps = pd.Series([END] * len(keys)).astype("datetime64[us, UTC]")
        entity_df = pd.DataFrame({"customer_id": keys, "event_timestamp": stamps})
        df = store.get_historical_features(entity_df, feature_refs(2)).to_df()
        return online_frame({c: df[c].tolist() for c in df.columns}, keys)

    return Run(materialize, lambda: dict(counts), online, offline)


def setup_cairn_sqlite(data: DataSet, repo: Path, redis_port: int | None) -> Run:
    """Cairn, ``materialize_incremental(end)`` into its default SQLite online store."""
    return _cairn(data, repo, None)


def setup_cairn_redis(data: DataSet, repo: Path, redis_port: int | None) -> Run:
    """Cairn, ``materialize_incremental(end)`` into Redis (database 0 of the bench server)."""
    if redis_port is None:
        raise ContenderUnavailable("no Redis server")
    _flush(redis_port, CAIRN_REDIS_DB)
    return _cairn(data, repo, f"redis://127.0.0.1:{redis_port}/{CAIRN_REDIS_DB}")


def _feast(data: DataSet, repo: Path, redis_port: int | None) -> Run:
    conn = None if redis_port is None else f"127.0.0.1:{redis_port},db={FEAST_REDIS_DB}"
    store = feast_repo(data, repo, conn)
    start, end = FEAST_START.to_pydatetime(), END.to_pydatetime()

    def materialize() -> None:
        store.materialize(start, end)

    def online(keys: list[int]) -> pd.DataFrame:
        rows = [{"customer_id": k} for k in keys]
        return online_frame(store.get_online_features(feature_refs(2), rows).to_dict(), keys)

    def written() -> dict[str, int]:
        if redis_port is None:
            return _feast_sqlite_counts(repo / "online.db")
        return _feast_redis_counts(redis_port)

    return Run(materialize, written, online)


def setup_feast_sqlite(data: DataSet, repo: Path, redis_port: int | None) -> Run:
    """Feast 0.67 ``materialize(start, end)``: DuckDB offline store, SQLite online store."""
    return _feast(data, repo, None)


def setup_feast_redis(data: DataSet, repo: Path, redis_port: int | None) -> Run:
    """Feast 0.67 ``materialize(start, end)``: DuckDB offline store, Redis online store."""
    if redis_port is None:
        raise ContenderUnavailable("no Redis server")
    try:
        import redis  # noqa: F401  (feast[redis])
    except ImportError as exc:
        raise ContenderUnavailable(f"feast[redis] is not installed: {exc}") from exc
    _flush(redis_port, FEAST_REDIS_DB)
    return _feast(data, repo, redis_port)


def _flush(port: int, db: int) -> None:
    import redis

    client = redis.Redis(host="127.0.0.1", port=port, db=db)
    try:
        client.flushdb()
    finally:
        client.close()


def _feast_sqlite_counts(path: Path) -> dict[str, int]:
    """Entities per view in Feast's SQLite online store (one row per entity and feature)."""
    con = sqlite3.connect(path)
    try:
        out = {}
        for view in (A_VIEW, B_VIEW):
            table = f"{PROJECT}_{view}"
            row = con.execute(f'SELECT COUNT(DISTINCT entity_key) FROM "{table}"').fetchone()
            out[view] = int(row[0])
        return out
    finally:
        con.close()


def _feast_redis_counts(port: int) -> dict[str, int]:
    """Entities per view in Feast's Redis store (a hash per entity, ``_ts:VIEW`` per view)."""
    import redis

    client = redis.Redis(host="127.0.0.1", port=port, db=FEAST_REDIS_DB)
    counts = {A_VIEW: 0, B_VIEW: 0}
    try:
        names: list[Any] = []
        for name in client.scan_iter(count=5_000):
            names.append(name)
            if len(names) >= 5_000:
                _count_fields(client, names, counts)
                names = []
        _count_fields(client, names, counts)
    finally:
        client.close()
    return counts


def _count_fields(client: Any, names: list[Any], counts: dict[str, int]) -> None:
    pipe = client.pipeline(transaction=False)
    for name in names:
        pipe.hkeys(name)
    for fields in pipe.execute():
        for view in counts:
            if f"_ts:{view}".encode() in fields:
                counts[view] += 1


CONTENDERS: dict[str, Setup] = {
    "cairn-sqlite": setup_cairn_sqlite,
    "cairn-redis": setup_cairn_redis,
    "feast-sqlite": setup_feast_sqlite,
    "feast-redis": setup_feast_redis,
}

LABELS: dict[str, str] = {
    "cairn-sqlite": "Cairn -> SQLite",
    "cairn-redis": "Cairn -> Redis",
    "feast-sqlite": "Feast 0.67 DuckDB -> SQLite",
    "feast-redis": "Feast 0.67 DuckDB -> Redis",
}

NEEDS_REDIS = ("cairn-redis", "feast-redis")
