"""Every online store backend passes the contract kit (``cairn.testing.online_store``).

SQLite runs on a file and in memory; Redis runs on the real test server named by
``CAIRN_TEST_REDIS_URL`` (``make test`` starts one). Each Redis test uses its own key prefix,
so tests sharing one server never see each other's data, and deletes its views at the end.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import orjson
import pytest

from cairn.core.online import OnlineStore, SnapshotRecord, TileRecord
from cairn.online.backends.sqlite import SqliteOnlineStore
from cairn.testing import ONLINE_STORE_CHECKS, OnlineStoreCheck, check_online_store, run_check
from cairn.testing.online_store import check_older_never_overwrites
from tests._services import redis_url_or_skip

StoreFactory = Callable[[], OnlineStore]


@pytest.fixture(params=["sqlite-file", "sqlite-memory", "redis"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> StoreFactory:
    """A factory of fresh, empty stores of one backend."""
    if request.param == "sqlite-file":
        return lambda: SqliteOnlineStore(tmp_path / "online.db")
    if request.param == "sqlite-memory":
        return lambda: SqliteOnlineStore(":memory:")
    from cairn.online.backends.redis import RedisOnlineStore

    url = redis_url_or_skip()
    prefix = f"cairn-test-{uuid.uuid4().hex[:12]}"
    return lambda: RedisOnlineStore(url, prefix=prefix)


@pytest.mark.parametrize("check", ONLINE_STORE_CHECKS, ids=lambda check: check.__name__)
def test_online_store_contract(check: OnlineStoreCheck, make_store: StoreFactory) -> None:
    run_check(check, make_store)


class DictStore:
    """A minimal in-memory store; with ``guard=False`` a write always replaces (a bug)."""

    url = "memory://"

    def __init__(self, *, guard: bool = True) -> None:
        self.guard = guard
        self.records: dict[tuple[str, str], SnapshotRecord] = {}
        self.tiles: dict[tuple[str, str, str, int], TileRecord] = {}

    def write(self, view: str, records: Sequence[SnapshotRecord]) -> int:
        stored = 0
        for r in records:
            old = self.records.get((view, r.key))
            if old is None or not self.guard or r.order > old.order:
                self.records[(view, r.key)] = r
                stored += 1
        return stored

    def write_encoded(self, view: str, rows: Sequence[tuple[str, int, int, int, bytes]]) -> int:
        return self.write(
            view, [SnapshotRecord(k, e, c, s, orjson.loads(v)) for k, e, c, s, v in rows]
        )

    def read(self, view: str, keys: Sequence[str]) -> list[SnapshotRecord | None]:
        return [self.records.get((view, k)) for k in keys]

    def write_tiles(self, view: str, tiles: Sequence[TileRecord]) -> int:
        stored = 0
        for t in tiles:
            old = self.tiles.get((view, t.group, t.key, t.start))
            if old is None or t.asof >= old.asof:
                self.tiles[(view, t.group, t.key, t.start)] = t
                stored += 1
        return stored

    def read_tiles(
        self, view: str, group: str, keys: Sequence[str], start: int, end: int
    ) -> list[list[TileRecord]]:
        return [
            sorted(
                (
                    t
                    for (v, g, k, s), t in self.tiles.items()
                    if (v, g, k) == (view, group, key) and start <= s <= end
                ),
                key=lambda t: t.start,
            )
            for key in keys
        ]

    def delete_view(self, view: str) -> None:
        self.records = {k: r for k, r in self.records.items() if k[0] != view}
        self.tiles = {k: t for k, t in self.tiles.items() if k[0] != view}

    def ping(self) -> None:
        pass

    def close(self) -> None:
        pass


def test_the_kit_passes_a_correct_store_giving_each_check_a_fresh_one() -> None:
    made: list[DictStore] = []

    def make() -> DictStore:
        made.append(DictStore())
        return made[-1]

    check_online_store(make)
    assert len(made) == len(ONLINE_STORE_CHECKS)


def test_the_kit_catches_a_store_without_the_order_guard() -> None:
    with pytest.raises(AssertionError, match=r"^check_encoded_writes_equal_plain_writes failed"):
        check_online_store(lambda: DictStore(guard=False))
    with pytest.raises(AssertionError, match=r"^check_older_never_overwrites failed on memory://"):
        run_check(check_older_never_overwrites, lambda: DictStore(guard=False))
