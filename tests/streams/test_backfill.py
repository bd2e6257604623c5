"""A changed stream view: built beside the live definition while the stream goes on, switched
in one commit once it caught up, equal to the batch engine after; resumed after a restart,
abandoned when changed again, and old-layout tiles rebuilt."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pandas as pd
import pytest

from cairn import Aggregation, Entity, FeatureStore, FeatureView, Field, LocalStreamSource
from cairn.app.consistency import check_consistency
from cairn.app.stream_backfill import read_next
from cairn.app.stream_status import stream_status
from cairn.app.streaming import SourceRunner, open_processor, run_processor
from cairn.core.errors import DataError, UnknownFeatureError
from cairn.core.online import TileRecord
from cairn.online.materialize import hop_groups, storage_name, versioned_storage
from tests._services import redis_url_or_skip

customer = Entity(name="customer", join_keys=["customer_id"])
SOURCE = LocalStreamSource(name="txns", schema=[Field("customer_id", "int64")])
SUM = Aggregation("amount", "sum", "1h")
COUNT = Aggregation("amount", "count", "1h")
MAX = Aggregation("amount", "max", "1h")


def _view(*aggs: Aggregation) -> FeatureView:
    return FeatureView(name="v", entities=[customer], source=SOURCE, aggregations=list(aggs))


@pytest.fixture(params=["sqlite", "redis"])
def online(request: pytest.FixtureRequest) -> Iterator[str]:
    """The online store's ``cairn.yaml`` lines: the embedded SQLite one, or a real Redis (its
    keys of this test deleted after)."""
    if request.param == "sqlite":
        yield ""
        return
    url = redis_url_or_skip()
    project = f"backfill{uuid.uuid4().hex[:8]}"
    yield f"project: {project}\nonline:\n  url: {url}\n"
    import redis

    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(match=f"*{project}*"))
    if keys:
        client.delete(*keys)
    client.close()


def _store(root: Path, online: str = "") -> FeatureStore:
    (root / "cairn.yaml").write_text(online or "project: backfill\n")
    return FeatureStore(root)


def _produce(store: FeatureStore, amount: float, minutes_ago: float = 0.0) -> None:
    at = pd.Timestamp.now(tz="UTC") - pd.Timedelta(minutes=minutes_ago)
    store.produce("txns", [{"customer_id": 1, "event_timestamp": at, "amount": amount}])


def _read(root: Path, *features: str) -> dict[str, Any]:
    """Online values for customer 1 through a new store (its read cache starts empty)."""
    refs = [f"v:{f}" for f in features]
    return FeatureStore(root).get_online_features(refs, [{"customer_id": 1}]).to_dict()


def _started(root: Path, online: str, *first: Aggregation) -> FeatureStore:
    """A project whose view ``v`` (``first``) is live over five events of 2.0."""
    store = _store(root, online)
    store.apply([_view(*first)])
    for m in range(1, 6):
        _produce(store, 2.0, minutes_ago=m)
    run_processor(store, "txns", threading.Event(), until_idle=True).log.close()
    return store


def _tiles(store: FeatureStore, storage: str) -> list[list[TileRecord]]:
    group = next(iter(hop_groups(_view(SUM))))
    return store.online.store.read_tiles(storage, group, ["1"], 0, 2**62)


def test_a_changed_view_is_served_by_the_live_definition_until_the_switch(
    tmp_path: Path, online: str
) -> None:
    store = _started(tmp_path, online, SUM)
    old = store.applied_views()["v"].definition_hash
    store.apply([_view(SUM, COUNT)])
    new = store.applied_views()["v"].definition_hash
    runner = SourceRunner(store, open_processor(store, "txns"), None, switch_lag_events=0)
    runner.begin()
    assert runner.backfill is not None and runner.live.hashes == {"v": old}
    # reads: the live definition serves what it has; the new feature says it is backfilled
    assert _read(tmp_path, "amount_sum_1h")["amount_sum_1h"] == [10.0]
    with pytest.raises(UnknownFeatureError, match="backfilled"):
        _read(tmp_path, "amount_sum_1h", "amount_count_1h")
    assert stream_status(store)[0]["version_state"] == "backfilling"
    assert stream_status(store)[0]["backfill_lag_events"] is None  # no pass yet
    assert stream_status(store)[0]["view_versions"] == {
        "v": {"applied": new[:12], "live": [old[:12]]}
    }
    with pytest.raises(DataError, match="being backfilled"):
        check_consistency(store, "v")
    # the stream goes on: the live definition keeps up
    _produce(store, 3.0)
    assert runner.live.step().landed == 1
    assert _read(tmp_path, "amount_sum_1h")["amount_sum_1h"] == [13.0]
    runner.advance()  # first pass, on the worker thread
    assert runner.backfill is not None
    runner.backfill.wait()
    assert runner.backfill.lag(runner.live.checkpoint) == 0
    _produce(store, 4.0)
    runner.live.step()
    assert stream_status(store)[0]["backfill_lag_events"] == 1
    runner.advance()  # 1 event behind > 0: another pass
    runner.backfill.wait()
    runner.advance()  # caught up: the switch
    assert runner.backfill is None and runner.live.hashes == {"v": new}
    assert read_next(runner.live).version == ""
    assert _read(tmp_path, "amount_sum_1h", "amount_count_1h") == {
        "customer_id": [1],
        "amount_sum_1h": [17.0],
        "amount_count_1h": [7],
        "found": [True],
    }
    # after the switch the stream continues the new definition, equal to the batch engine
    _produce(store, 5.0)
    runner.live.step()
    at = pd.Timestamp(runner.live.checkpoint.commit_us, unit="us", tz="UTC")
    refs = ["v:amount_sum_1h", "v:amount_count_1h"]
    online = FeatureStore(tmp_path).get_online_features(refs, [{"customer_id": 1}], at=at)
    batch = store.get_historical_features(
        pd.DataFrame({"customer_id": [1], "event_timestamp": [at]}), refs
    ).to_df()
    assert online.to_dict()["amount_sum_1h"] == batch["amount_sum_1h"].tolist() == [22.0]
    assert online.to_dict()["amount_count_1h"] == batch["amount_count_1h"].tolist() == [8]
    # the old definition's storage is retired, then deleted
    retired = versioned_storage(store.project, "v", old)
    assert runner.live.checkpoint.retired == (retired,)
    assert _tiles(store, retired) != [[]]
    runner.retire_after_s = 0.0
    runner.refresh()
    assert _tiles(store, retired) == [[]] and runner.live.checkpoint.retired == ()
    assert stream_status(store)[0]["version_state"] == "current"
    report = check_consistency(store, "v")
    assert report.ok and report.values_compared > 0, report.verdict()
    runner.live.log.close()


def test_a_restarted_processor_resumes_the_backfill_and_finishes_it(
    tmp_path: Path, online: str
) -> None:
    store = _started(tmp_path, online, SUM)
    store.apply([_view(SUM, COUNT)])
    first = SourceRunner(store, open_processor(store, "txns"), None, switch_lag_events=0)
    first.begin()
    assert first.backfill is not None
    first.advance()
    first.backfill.wait()
    done = first.backfill.done
    assert done is not None
    first.live.log.close()  # the process dies here
    again = SourceRunner(store, open_processor(store, "txns"), None, switch_lag_events=0)
    again.begin()
    assert again.backfill is not None and again.backfill.done == done  # resumed, not redone
    again.live.log.close()
    # `--until-idle` finishes a backfill under way before it returns
    run_processor(store, "txns", threading.Event(), until_idle=True).log.close()
    assert stream_status(store)[0]["version_state"] == "current"
    assert _read(tmp_path, "amount_count_1h")["amount_count_1h"] == [5]


def test_a_view_changed_again_mid_backfill_drops_the_abandoned_storage(
    tmp_path: Path, online: str
) -> None:
    store = _started(tmp_path, online, SUM)
    store.apply([_view(SUM, COUNT)])
    abandoned = versioned_storage(store.project, "v", store.applied_views()["v"].definition_hash)
    runner = SourceRunner(store, open_processor(store, "txns"), None, switch_lag_events=0)
    runner.begin()
    assert runner.backfill is not None
    runner.advance()
    runner.backfill.wait()
    assert _tiles(store, abandoned) != [[]]
    store.apply([_view(SUM, MAX)])
    runner.refresh()
    assert _tiles(store, abandoned) == [[]]
    assert runner.backfill is not None and runner.backfill.done is None
    runner.advance(switch_now=True)
    assert _read(tmp_path, "amount_max_1h")["amount_max_1h"] == [2.0]
    runner.live.log.close()


def test_tiles_of_the_old_layout_are_rebuilt_and_dropped(tmp_path: Path, online: str) -> None:
    store = _started(tmp_path, online, SUM)
    processor = open_processor(store, "txns")
    legacy = storage_name(store.project, "v")
    ck = processor.store.read_stream_checkpoint(processor.name)
    assert ck is not None
    data = orjson.loads(ck)
    del data["layout"]  # as written before tiles were stored per definition
    group = next(iter(hop_groups(_view(SUM))))
    store.online.store.write_tiles(legacy, [TileRecord("1", group, 0, 1, {"amount_sum_1h": 1.0})])
    processor.store.commit_stream(processor.name, [], orjson.dumps(data))
    processor.log.close()
    run_processor(store, "txns", threading.Event(), until_idle=True).log.close()
    assert _tiles(store, legacy) == [[]]
    assert _read(tmp_path, "amount_sum_1h")["amount_sum_1h"] == [10.0]
