"""The contenders of the online-read benchmark: how each store is filled, and how it is read.

``PREPARE`` fills one store from the data of :mod:`_mat_data` (not timed here; the
materialization benchmark times that). ``READERS`` opens a filled store and returns one read
function per case ``(views, entities)``; a read function takes one prepared request (built
before the clock starts) and returns the answer in the system's usual form (``to_dict()`` for
Cairn and Feast, raw bytes for the lower bounds). Requests:

* Cairn and Feast, 1 entity: ``[{"customer_id": k}]``; 100 entities: ``{"customer_id": [...]}``
  (the columnar form Feast's own entity handling uses; Cairn takes both).
* raw SQLite: ``SELECT value FROM kv WHERE key = ?`` (``fetchone``) and ``... WHERE key IN
  (100 marks)`` (``fetchall``) on a table ``kv(key INTEGER PRIMARY KEY, value BLOB)`` holding the
  same latest values of view A as JSON; raw Redis: ``GET`` / ``MGET`` of the same blobs through
  redis-py (hiredis parser when installed). No decoding: these are the lower bounds.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pandas as pd
from _mat_data import A_FEATURES, END, START, DataSet, reference_at
from _mat_repos import cairn_repo, feast_repo, feature_refs, online_frame

RAW_REDIS_DB = 2
CAIRN_REDIS_DB, FEAST_REDIS_DB = 0, 1
Case = tuple[int, int]  # (views, entities)
Read = Callable[[Any], Any]


class ContenderUnavailable(RuntimeError):
    """The contender cannot run here."""


@dataclass(frozen=True)
class Paths:
    """Where the prepared stores of one run live."""

    work: Path

    def repo(self, name: str) -> Path:
        return self.work / "projects" / name

    @property
    def raw_sqlite(self) -> Path:
        return self.repo("raw-sqlite") / "kv.db"


@dataclass
class Readers:
    """Read functions per case, a request builder, and a values check for sampled keys."""

    reads: dict[Case, Read]
    request: Callable[[list[int]], Any]
    values: Callable[[list[int]], pd.DataFrame] | None = None


# ----------------------------------------------------------------------------- prepare


def _cairn_url(name: str, redis_port: int | None) -> str | None:
    if name == "cairn-redis":
        if redis_port is None:
            raise ContenderUnavailable("no Redis server")
        return f"redis://127.0.0.1:{redis_port}/{CAIRN_REDIS_DB}"
    return None


def _feast_conn(name: str, redis_port: int | None) -> str | None:
    if name == "feast-redis":
        if redis_port is None:
            raise ContenderUnavailable("no Redis server")
        return f"127.0.0.1:{redis_port},db={FEAST_REDIS_DB}"
    return None


def prepare_cairn(name: str, data: DataSet, paths: Paths, redis_port: int | None) -> None:
    store = cairn_repo(data, paths.repo(name), _cairn_url(name, redis_port))
    store.materialize_incremental(END.to_pydatetime())


def prepare_feast(name: str, data: DataSet, paths: Paths, redis_port: int | None) -> None:
    store = feast_repo(data, paths.repo(name), _feast_conn(name, redis_port))
    store.materialize((START - pd.Timedelta(days=1)).to_pydatetime(), END.to_pydatetime())


def _latest_blobs(data: DataSet) -> list[tuple[int, bytes]]:
    """(customer id, JSON of the five view-A values at END) for every customer."""
    ref = reference_at(data, list(range(data.sizes.entities)), END)
    values = ref[list(A_FEATURES)].to_numpy().tolist()
    return [(int(k), orjson.dumps(v)) for k, v in zip(ref["customer_id"], values, strict=True)]


def prepare_raw_sqlite(name: str, data: DataSet, paths: Paths, redis_port: int | None) -> None:
    paths.raw_sqlite.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(paths.raw_sqlite, isolation_level=None)
    try:
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("CREATE TABLE kv (key INTEGER PRIMARY KEY, value BLOB NOT NULL)")
        con.execute("BEGIN")
        con.executemany("INSERT INTO kv VALUES (?, ?)", _latest_blobs(data))
        con.execute("COMMIT")
    finally:
        con.close()


def prepare_raw_redis(name: str, data: DataSet, paths: Paths, redis_port: int | None) -> None:
    if redis_port is None:
        raise ContenderUnavailable("no Redis server")
    client = _redis(redis_port, RAW_REDIS_DB)
    try:
        client.flushdb()
        pipe = client.pipeline(transaction=False)
        for i, (key, blob) in enumerate(_latest_blobs(data)):
            pipe.set(_raw_key(key), blob)
            if i % 5_000 == 4_999:
                pipe.execute()
        pipe.execute()
    finally:
        client.close()


def _redis(port: int, db: int) -> Any:
    try:
        import redis
    except ImportError as exc:
        raise ContenderUnavailable(f"the redis client is not installed: {exc}") from exc
    return redis.Redis(host="127.0.0.1", port=port, db=db)


def _raw_key(key: int) -> bytes:
    return b"k:%d" % key


PREPARE: dict[str, Callable[[str, DataSet, Paths, int | None], None]] = {
    "cairn-sqlite": prepare_cairn,
    "cairn-redis": prepare_cairn,
    "feast-sqlite": prepare_feast,
    "feast-redis": prepare_feast,
    "raw-sqlite": prepare_raw_sqlite,
    "raw-redis": prepare_raw_redis,
}


# ----------------------------------------------------------------------------- readers


def _entity_request(keys: list[int]) -> Any:
    if len(keys) == 1:
        return [{"customer_id": keys[0]}]
    return {"customer_id": keys}


def cairn_readers(name: str, data: DataSet, paths: Paths, redis_port: int | None) -> Readers:
    from cairn import FeatureStore

    _cairn_url(name, redis_port)
    store = FeatureStore(str(paths.repo(name)))

    def reader(refs: list[str]) -> Read:
        def read(req: Any) -> Any:
            return store.get_online_features(refs, req).to_dict()

        return read

    reads = {(v, n): reader(feature_refs(v)) for v in (1, 2) for n in (1, 100)}

    def values(keys: list[int]) -> pd.DataFrame:
        answer = store.get_online_features(feature_refs(2), {"customer_id": keys})
        return online_frame(answer.to_dict(), keys)

    return Readers(reads, _entity_request, values)


def feast_readers(name: str, data: DataSet, paths: Paths, redis_port: int | None) -> Readers:
    from feast import FeatureStore

    _feast_conn(name, redis_port)
    store = FeatureStore(repo_path=str(paths.repo(name)))

    def reader(refs: list[str]) -> Read:
        def read(req: Any) -> Any:
            return store.get_online_features(features=refs, entity_rows=req).to_dict()

        return read

    reads = {(v, n): reader(feature_refs(v)) for v in (1, 2) for n in (1, 100)}

    def values(keys: list[int]) -> pd.DataFrame:
        answer = store.get_online_features(features=feature_refs(2), entity_rows=_rows(keys))
        return online_frame(answer.to_dict(), keys)

    return Readers(reads, _entity_request, values)


def _rows(keys: list[int]) -> dict[str, list[int]]:
    return {"customer_id": keys}


def raw_sqlite_readers(name: str, data: DataSet, paths: Paths, redis_port: int | None) -> Readers:
    con = sqlite3.connect(paths.raw_sqlite, isolation_level=None, check_same_thread=False)
    con.execute("PRAGMA journal_mode=WAL")
    one = "SELECT value FROM kv WHERE key = ?"
    many = f"SELECT key, value FROM kv WHERE key IN ({','.join('?' * 100)})"

    def read_one(req: tuple[int, ...]) -> Any:
        return con.execute(one, req).fetchone()

    def read_many(req: tuple[int, ...]) -> Any:
        return con.execute(many, req).fetchall()

    return Readers({(1, 1): read_one, (1, 100): read_many}, tuple)


def raw_redis_readers(name: str, data: DataSet, paths: Paths, redis_port: int | None) -> Readers:
    if redis_port is None:
        raise ContenderUnavailable("no Redis server")
    client = _redis(redis_port, RAW_REDIS_DB)

    def request(keys: list[int]) -> Any:
        return _raw_key(keys[0]) if len(keys) == 1 else [_raw_key(k) for k in keys]

    return Readers({(1, 1): client.get, (1, 100): client.mget}, request)


READERS: dict[str, Callable[[str, DataSet, Paths, int | None], Readers]] = {
    "cairn-sqlite": cairn_readers,
    "cairn-redis": cairn_readers,
    "feast-sqlite": feast_readers,
    "feast-redis": feast_readers,
    "raw-sqlite": raw_sqlite_readers,
    "raw-redis": raw_redis_readers,
}

LABELS: dict[str, str] = {
    "cairn-sqlite": "Cairn (SQLite)",
    "cairn-redis": "Cairn (Redis)",
    "feast-sqlite": "Feast 0.67 (SQLite)",
    "feast-redis": "Feast 0.67 (Redis)",
    "raw-sqlite": "raw sqlite3 PK read",
    "raw-redis": "raw redis-py GET/MGET",
    "cairn-http": "cairn serve (SQLite)",
    "feast-http": "feast serve (SQLite)",
}
