"""Fenced stream commits: a processor that lost its partitions cannot land a batch it had in
flight. The online stores refuse a commit whose fence another claim replaced, atomically
(nothing of it is written); a processor whose commit is refused discards its staged batch, and
the processor that claimed the partitions processes those events once."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from cairn import FeatureStore, LocalStreamSource
from cairn.app.streaming import open_processor
from cairn.core.errors import StreamFencedError
from cairn.core.online import StreamCommitter, StreamFence, TileRecord
from cairn.online.backends.redis import RedisOnlineStore
from cairn.online.backends.sqlite import SqliteOnlineStore
from cairn.streams.fence import partition_fence
from tests._services import redis_url_or_skip
from tests.streams._parity import BASE, apply_view


@pytest.fixture(params=["sqlite", "redis"])
def committer(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StreamCommitter]:
    if request.param == "sqlite":
        store: StreamCommitter = SqliteOnlineStore(tmp_path / "online.db")
    else:
        store = RedisOnlineStore(redis_url_or_skip(), prefix=f"cairn-fence-{uuid.uuid4().hex}")
    yield store
    if isinstance(store, RedisOnlineStore):
        store.delete_view("v")
    store.close()  # type: ignore[attr-defined]


def _tile(amount: float) -> list[tuple[str, TileRecord]]:
    return [("v", TileRecord("k1", "g", 0, 10, [amount]))]


def _tiles(store: StreamCommitter) -> list[list[TileRecord]]:
    return store.read_tiles("v", "g", ["k1"], 0, 0)  # type: ignore[attr-defined, no-any-return]


def test_a_commit_lands_only_while_its_fence_holds(committer: StreamCommitter) -> None:
    old = partition_fence("p", "txns", [0, 1])
    new = partition_fence("p", "txns", [0, 1])
    assert old.names == new.names and old.token != new.token
    committer.claim_stream_fence(old)
    committer.commit_stream("ck", _tile(1.0), b"one", fence=old)
    assert committer.read_stream_checkpoint("ck") == b"one"
    committer.claim_stream_fence(new)  # another processor took the partitions
    with pytest.raises(StreamFencedError, match="another processor claimed"):
        committer.commit_stream("ck", _tile(2.0), b"two", fence=old)
    assert committer.read_stream_checkpoint("ck") == b"one"  # nothing of it written
    assert [t.states for t in _tiles(committer)[0]] == [[1.0]]
    committer.commit_stream("ck", _tile(3.0), b"three", fence=new)
    assert committer.read_stream_checkpoint("ck") == b"three"
    assert [t.states for t in _tiles(committer)[0]] == [[3.0]]


def test_one_replaced_partition_refuses_the_whole_commit(committer: StreamCommitter) -> None:
    mine = partition_fence("p", "txns", [0, 1])
    committer.claim_stream_fence(mine)
    other = partition_fence("p", "txns", [1])  # another layout took partition 1 only
    committer.claim_stream_fence(other)
    with pytest.raises(StreamFencedError):
        committer.commit_stream_encoded("ck", [("v", "g", "k1", 0, 10, b"[5.0]")], b"x", fence=mine)
    assert committer.read_stream_checkpoint("ck") is None
    assert _tiles(committer) == [[]]
    never = StreamFence(("p:txns:7",), b"never-claimed")
    with pytest.raises(StreamFencedError):
        committer.commit_stream("ck", [], b"y", fence=never)
    committer.commit_stream("ck", [], b"unfenced")  # no fence: the store checks nothing
    assert committer.read_stream_checkpoint("ck") == b"unfenced"


def _ts(us: int) -> str:
    return pd.Timestamp(us, unit="us", tz="UTC").isoformat()


@pytest.mark.parametrize("online", ["sqlite", "redis"])
def test_a_processor_that_lost_its_partitions_lands_nothing_and_the_new_owner_once(
    online: str, tmp_path: Path
) -> None:
    project = f"fenced{uuid.uuid4().hex[:10]}"
    config = f"project: {project}\n"
    if online == "redis":
        config += f"online:\n  url: {redis_url_or_skip()}\n"
    (tmp_path / "cairn.yaml").write_text(config)
    store = FeatureStore(tmp_path)
    apply_view(store, LocalStreamSource(name="txns"))
    old = open_processor(store, "txns", clock=lambda: BASE)
    old.claim(partition_fence(project, "txns", old.owned))
    old.start()
    old.log.produce([{"customer_id": 1, "event_timestamp": _ts(BASE - 10), "amount": 5}])
    assert old.step().landed == 1
    # The old processor's lock is lost; a new one takes the partitions and claims them
    # before it reads the checkpoint. Then an event arrives, and both read it.
    new = open_processor(store, "txns", clock=lambda: BASE + 1_000)
    new.claim(partition_fence(project, "txns", new.owned))
    new.start()
    old.log.produce([{"customer_id": 1, "event_timestamp": _ts(BASE - 5), "amount": 7}])
    before = store.online.store.read_stream_checkpoint(old.name)
    with pytest.raises(StreamFencedError):
        old.step()  # its batch was in flight: refused, its staged rows discarded
    assert store.online.store.read_stream_checkpoint(old.name) == before
    folder = tmp_path / "data" / "streams" / "txns"
    assert not list(folder.glob(".stream-*.pending*"))
    result = new.step()
    assert (result.events, result.landed) == (1, 1)
    assert new.checkpoint.count("landed") == 2
    amounts = sorted(pd.read_parquet(folder)["amount"].tolist())
    assert amounts == [5.0, 7.0]  # each event landed once
    old.log.close()
    new.log.close()
    if online == "redis":  # the test's keys on the shared server
        import redis

        client = redis.Redis.from_url(redis_url_or_skip())
        keys = list(client.scan_iter(match=f"*{project}*", count=1000))
        assert keys  # tiles, checkpoint and fences were written there
        client.delete(*keys)
        client.close()
