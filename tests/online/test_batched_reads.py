"""One online read of several views asks the store once (``read_many``), with the same values.

The tiny project (a snapshot view and a windowed view with three hop groups) is materialized
into SQLite (answered request by request) and into the real Redis test server (one round trip);
both answer exactly what the offline point-in-time join does.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pytest

from cairn import FeatureStore
from cairn.core.online import ReadRequest, ReadResult, read_each
from cairn.online.backends.sqlite import SqliteOnlineStore
from cairn.online.materialize import storage_name
from tests._services import redis_url_or_skip
from tests.online._project import REFS, SNAPSHOT, WINDOWED, offline_at, seconds, write_rows

KEYS = [1, 2, 3, 99]
ROWS: list[tuple[int, float, float, float | None, int]] = [
    (k, s, s + (k % 2), float(s % 7) - 2, k) for k in (1, 2, 3) for s in range(0, 90, 7)
]


class CountingStore(SqliteOnlineStore):
    """A SQLite store answering ``read_many`` itself, counting its calls and requests."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.calls: list[list[ReadRequest]] = []

    def read_many(self, requests: Sequence[ReadRequest]) -> list[ReadResult]:
        self.calls.append(list(requests))
        return read_each(self, requests)


def _read(store: FeatureStore, at: pd.Timestamp) -> dict[str, list[object]]:
    rows = [{"k": k} for k in KEYS]
    out: dict[str, list[object]] = store.get_online_features(REFS, rows, at=at).to_dict()
    return out


def _open(repo: Path, online: object) -> FeatureStore:
    store = FeatureStore(repo, online_store=online)  # type: ignore[arg-type]
    store.apply([SNAPSHOT, WINDOWED])
    store.materialize_incremental(seconds(90).to_pydatetime())
    return store


def test_one_read_many_call_per_request(repo: Path) -> None:
    write_rows(repo, ROWS)
    counting = CountingStore(repo / "counting.db")
    store = _open(repo, counting)
    plain = _open(repo, SqliteOnlineStore(repo / "plain.db"))
    counting.calls.clear()
    assert _read(store, seconds(95)) == _read(plain, seconds(95))
    assert len(counting.calls) == 1
    kinds = sorted(type(r).__name__ for r in counting.calls[0])
    assert kinds == ["SnapshotRead", "TileRead", "TileRead", "TileRead"]  # groups 0s/10s/20s


@pytest.mark.parametrize("at", [90, 95, 111, 140])
def test_redis_answers_like_sqlite_and_offline(repo: Path, at: int) -> None:
    from cairn.online.backends.redis import RedisOnlineStore

    url = redis_url_or_skip()
    write_rows(repo, ROWS)
    redis_store = RedisOnlineStore(url, prefix=f"cairn-test-{uuid.uuid4().hex[:12]}")
    try:
        on_redis = _open(repo, redis_store)
        on_sqlite = _open(repo, SqliteOnlineStore(repo / "online.db"))
        got = _read(on_redis, seconds(at))
        assert got == _read(on_sqlite, seconds(at))
        offline = offline_at(on_sqlite, KEYS, seconds(at))
        for ref in REFS:
            name = ref.split(":")[1]
            expected = offline[name].astype(object).where(offline[name].notna(), None).tolist()
            assert got[name] == expected, ref
    finally:
        for view in ("snap", "win"):
            redis_store.delete_view(storage_name("test", view))
        redis_store.close()
