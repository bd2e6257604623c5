"""Several processors sharing a stream source's partitions (``streaming.processors``): each
reads its own partitions, lands its own batches and keeps its keys' tiles; together they equal
the batch engine. A misplaced event is dead-lettered, a changed number of processors takes the
offsets over, a definition change switches them together, and a standby takes over a killed
one (the last one: slow)."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from cairn import (
    Aggregation,
    Entity,
    FeatureStore,
    FeatureView,
    Field,
    KafkaSource,
    LocalStreamSource,
    RedisStreamSource,
)
from cairn.app.consistency import check_consistency
from cairn.app.stream_status import stream_status
from cairn.app.streaming import SourceRunner, open_processor, run_processor
from cairn.cli.main import app
from cairn.core.errors import UnknownFeatureError
from cairn.features.stream_source import StreamSource
from tests._services import kafka_url_or_skip, redis_url_or_skip
from tests.streams._kill_helpers import landed_ids, processors, wait_for

customer = Entity(name="customer", join_keys=["customer_id"])
SOURCE = LocalStreamSource(
    name="txns", partitions=4, schema=[Field("customer_id", "int64"), Field("event_id", "int64")]
)
SUM = Aggregation("amount", "sum", "1h")
COUNT = Aggregation("amount", "count", "1h")
KEYS = 30


def _view(*aggs: Aggregation) -> FeatureView:
    return FeatureView(name="v", entities=[customer], source=SOURCE, aggregations=list(aggs))


def _store(root: Path, processors: int) -> FeatureStore:
    (root / "cairn.yaml").write_text(f"project: shared\nstreaming:\n  processors: {processors}\n")
    return FeatureStore(root)


def _events(rng: random.Random, first_id: int, n: int) -> list[dict[str, Any]]:
    now = pd.Timestamp.now(tz="UTC")
    return [
        {
            "event_id": first_id + i,
            "customer_id": rng.randrange(KEYS),
            "event_timestamp": now - pd.Timedelta(seconds=rng.randrange(1, 3000)),
            "amount": None if rng.random() < 0.05 else round(rng.uniform(0, 100), 2),
        }
        for i in range(n)
    ]


def _run_both(store: FeatureStore) -> None:
    for i in range(2):
        run_processor(store, "txns", threading.Event(), until_idle=True, instance=(i, 2))


def _exactly_once(root: Path, produced: int) -> None:
    ids = landed_ids(root)
    assert sorted(ids) == list(range(produced))


@pytest.fixture(params=["local", "redis", "kafka"])
def backend(request: pytest.FixtureRequest) -> Iterator[tuple[StreamSource, str]]:
    """The stream source (4 partitions) and the online store's ``cairn.yaml`` lines of a
    backend: the embedded log and SQLite, Redis Streams and Redis, or Kafka and SQLite; the
    server-side keys and topics of the test are deleted after."""
    unique = uuid.uuid4().hex[:10]
    schema = SOURCE.schema
    if request.param == "local":
        yield SOURCE, ""
        return
    if request.param == "kafka":
        url = kafka_url_or_skip()
        topic = f"cairn-test-shared-{unique}"
        yield KafkaSource(name="txns", topic=topic, bootstrap_servers=url, partitions=4,
                          schema=schema), ""  # fmt: skip
        return
    url = redis_url_or_skip()
    stream = f"cairn-test-shared-{unique}"
    yield (
        RedisStreamSource(name="txns", stream=stream, url=url, partitions=4, schema=schema),
        (f"online:\n  url: {url}\n"),
    )
    import redis

    client = redis.Redis.from_url(url)
    for pattern in (f"{stream}*", f"*shared{unique}*"):
        keys = list(client.scan_iter(match=pattern, count=1000))
        if keys:
            client.delete(*keys)
    client.close()


def test_two_processors_share_the_partitions_and_equal_the_batch_engine(
    tmp_path: Path, backend: tuple[StreamSource, str]
) -> None:
    source, online = backend
    project = f"shared{uuid.uuid4().hex[:10]}" if online else "shared"
    (tmp_path / "cairn.yaml").write_text(
        f"project: {project}\nstreaming:\n  processors: 2\n{online}"
    )
    store = FeatureStore(tmp_path)
    store.apply([FeatureView(name="v", entities=[customer], source=source,
                             aggregations=[SUM, COUNT])])  # fmt: skip
    store.produce("txns", _events(random.Random(1), 0, 1500))
    _run_both(store)
    _exactly_once(tmp_path, 1500)
    folder = tmp_path / "data/streams/txns"
    tags = {f.name.split("-stream-")[1] for f in folder.glob("part-*-stream-*.parquet")}
    assert tags == {"txns.0of2.parquet", "txns.1of2.parquet"}  # each lands its own batches
    row = stream_status(store)[0]
    assert [p["partitions"] for p in row["processors"]] == [[0, 2], [1, 3]]
    assert row["lag_events"] == 0 and row["counts"]["landed"] == 1500
    assert row["version_state"] == "current"
    report = check_consistency(store, "v", sample=KEYS)
    assert report.ok and report.values_compared > KEYS, report.verdict()
    shown = CliRunner(env={"COLUMNS": "200"}).invoke(
        app, ["stream", "status", "--repo", str(tmp_path)]
    )
    assert shown.exit_code == 0 and "processor 1/2" in shown.output, shown.output


def test_an_event_keyed_to_another_partition_is_dead_lettered(tmp_path: Path) -> None:
    store = _store(tmp_path, 2)
    store.apply([_view(SUM)])
    log = store.stream_log("txns")
    rows = _events(random.Random(2), 0, 20)
    values = [{**r, "event_timestamp": r["event_timestamp"].isoformat()} for r in rows]
    log.produce(values, key=lambda _: None, timestamp=None)  # all in partition 0
    _run_both(store)
    letters = (tmp_path / ".cairn/streams/txns.0of2.dead.jsonl").read_text().splitlines()
    wrong = [r for r in rows if r["customer_id"] is not None]
    assert 0 < len(letters) < len(wrong)  # keys hashing to partition 0 are fine
    assert "belongs to partition" in letters[0] and "keyed by the views' join keys" in letters[0]


def test_a_changed_number_of_processors_takes_the_offsets_over(tmp_path: Path) -> None:
    store = _store(tmp_path, 1)
    store.apply([_view(SUM, COUNT)])
    rng = random.Random(3)
    store.produce("txns", _events(rng, 0, 600))
    run_processor(store, "txns", threading.Event(), until_idle=True)
    store = _store(tmp_path, 2)  # now two processors share the partitions
    store.produce("txns", _events(rng, 600, 600))
    _run_both(store)
    _exactly_once(tmp_path, 1200)  # nothing read twice, nothing skipped
    report = check_consistency(store, "v", sample=KEYS)
    assert report.ok and report.values_compared > KEYS, report.verdict()
    store = _store(tmp_path, 1)  # and back
    store.produce("txns", _events(rng, 1200, 300))
    run_processor(store, "txns", threading.Event(), until_idle=True)
    _exactly_once(tmp_path, 1500)
    assert check_consistency(store, "v", sample=KEYS).ok


def test_processors_switch_a_changed_definition_together(tmp_path: Path) -> None:
    store = _store(tmp_path, 2)
    store.apply([_view(SUM)])
    rng = random.Random(4)
    store.produce("txns", _events(rng, 0, 400))
    _run_both(store)
    store.apply([_view(SUM, COUNT)])
    runners = [
        SourceRunner(store, open_processor(store, "txns", instance=(i, 2)), None, 0)
        for i in range(2)
    ]
    for r in runners:
        r.begin()
        r.advance()  # the first pass of each backfill, filtered to its keys
        assert r.backfill is not None
        r.backfill.wait()
    runners[0].advance()  # caught up, but the other one has not said so yet: no switch
    assert runners[0].backfill is not None and runners[0].backfill.ready
    reader = FeatureStore(tmp_path)
    with pytest.raises(UnknownFeatureError, match="backfilled"):
        reader.get_online_features(["v:amount_count_1h"], [{"customer_id": 1}])
    runners[1].advance()  # both ready: this one switches
    assert runners[1].backfill is None
    # one switched, one not: reads stay on the definition both still hold
    with pytest.raises(UnknownFeatureError):
        FeatureStore(tmp_path).get_online_features(["v:amount_count_1h"], [{"customer_id": 1}])
    runners[0].advance()
    assert runners[0].backfill is None
    assert stream_status(store)[0]["version_state"] == "current"
    report = check_consistency(store, "v", sample=KEYS)
    assert report.ok and report.values_compared > KEYS, report.verdict()
    for r in runners:
        r.live.log.close()


@pytest.mark.slow
def test_a_standby_takes_over_a_killed_processor_of_two(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    store = _store(root, 2)
    store.apply([_view(SUM, COUNT)])
    rng = random.Random(5)
    produced = 0
    stop = threading.Event()
    errors: list[BaseException] = []

    def produce() -> None:
        nonlocal produced
        try:
            while not stop.is_set() and produced < 200_000:  # until the test says stop
                store.produce("txns", _events(rng, produced, 100))
                produced += 100
                time.sleep(0.05)
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    thread = threading.Thread(target=produce, daemon=True)
    try:
        with processors(root, tmp_path / "logs") as group:
            a, b = group.start("--instances", "1"), group.start("--instances", "1")
            thread.start()
            wait_for("both to run", lambda: a.batches() > 0 and b.batches() > 0, 30)
            standby = group.start("--instances", "1")
            time.sleep(1.0)
            assert standby.batches() == 0 and standby.alive()  # both slots are taken
            a.kill9()
            killed = time.monotonic()
            took = wait_for("the standby to take the slot", lambda: standby.batches() > 0, 30)
            print(f"standby took over the killed processor's partitions after {took:.2f} s")
            time.sleep(0.5)
            stop.set()
            thread.join(30)
            assert errors == []
            for p in (b, standby):
                wait_for("the log to be drained", lambda: _drained(root), 30)
                p.proc.terminate()
                assert p.proc.wait(timeout=20) == 0, p.output()
            assert group.failures() == []
            assert time.monotonic() - killed < 120
    finally:
        stop.set()
        thread.join(30)
    _exactly_once(root, produced)
    report = check_consistency(FeatureStore(root), "v", sample=KEYS)
    assert report.ok and report.values_compared > KEYS, report.verdict()


def _drained(root: Path) -> bool:
    row = stream_status(FeatureStore(root))[0]
    return bool(row["lag_events"] == 0 and row["last_commit_us"])
