"""The Kafka log on a real Kafka-protocol broker (Tansu under `make test`): it keeps the
event-log contract, keeps its topic's partition count, reads sequentially without seeking, an
unreachable broker is one quick error, and several producers with a reader in loops and a
kill -9 lose no acknowledged event, duplicate none and leave no gap."""

from __future__ import annotations

import json
import multiprocessing
import re
import signal
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from confluent_kafka import KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient

from cairn.streams.event_log import EventLog, LogError, partition_of
from cairn.streams.kafka_log import KafkaLog
from tests._services import kafka_url_or_skip
from tests.streams._contract import check_event_log
from tests.streams._producer import acknowledged as read_acks
from tests.streams._producer import produce_loop


@pytest.fixture
def url() -> str:
    return kafka_url_or_skip()


@pytest.fixture
def new_topic(url: str) -> Iterator[Callable[[], str]]:
    """Unique topic names; every one is deleted after the test."""
    names: list[str] = []

    def new() -> str:
        names.append(f"cairn-test-log-{uuid.uuid4().hex[:12]}")
        return names[-1]

    yield new
    if names:
        admin = AdminClient({"bootstrap.servers": url})
        for future in admin.delete_topics(names, operation_timeout=10).values():
            try:
                future.result(timeout=10)
            except KafkaException as exc:  # a name no log was made with
                assert exc.args[0].code() == KafkaError.UNKNOWN_TOPIC_OR_PART, exc


def test_kafka_log_keeps_the_event_log_contract(url: str, new_topic: Callable[[], str]) -> None:
    # Logs of one process share an idempotent producer; one kept open, as in a service, spares
    # each new log the producer's first-append wait (~0.5 s) for its producer id.
    keeper = KafkaLog(url, new_topic())
    keeper.produce([{"warm": True}])
    try:
        check_event_log(lambda partitions: KafkaLog(url, new_topic(), partitions=partitions))
    finally:
        keeper.close()


def test_an_existing_topic_keeps_its_partition_count(
    url: str, new_topic: Callable[[], str]
) -> None:
    topic = new_topic()
    log = KafkaLog(url, topic, partitions=3)
    assert isinstance(log, EventLog)
    assert log.url == f"kafka://{url}/{topic}"
    assert KafkaLog(url, topic).partitions == 3  # the default takes what exists
    assert KafkaLog(url, topic, partitions=3).partitions == 3
    with pytest.raises(LogError, match=re.escape(f"{log.url} has 3 partitions; got partitions=2")):
        KafkaLog(url, topic, partitions=2)
    assert KafkaLog(url, new_topic()).partitions == 1  # a new topic without a count: 1


def test_events_land_where_the_key_says_with_their_exact_times(
    url: str, new_topic: Callable[[], str]
) -> None:
    log = KafkaLog(url, new_topic(), partitions=4)
    cards = [f"c{i % 7}" for i in range(40)]
    values = [{"card": card, "at": 1_700_000_000_123_456 + i} for i, card in enumerate(cards)]
    acks = log.produce(values, key="card", timestamp="at")
    assert [p for p, _ in acks] == [partition_of(card, 4) for card in cards]
    for part in range(4):
        events = log.read(part, 0)
        assert [e.timestamp_us for e in events] == [
            v["at"] for v, card in zip(values, cards, strict=True) if partition_of(card, 4) == part
        ]  # µs, not the message timestamp's ms
        assert log.read(part, log.end_offsets()[part] + 5) == []  # past the end: nothing
    log.close()


def test_sequential_reads_continue_without_a_new_consumer(
    url: str, new_topic: Callable[[], str]
) -> None:
    log = KafkaLog(url, new_topic())
    log.produce([{"n": n} for n in range(2_000)])
    first = log.read(0, 0, max_events=500)
    reader = log._readers[0].consumer
    got, started = list(first), time.monotonic()
    while len(got) < 2_000:
        got += log.read(0, got[-1].offset + 1, max_events=500)
        assert log._readers[0].consumer is reader  # continued, no seek
    assert [e.value["n"] for e in got] == list(range(2_000))
    assert time.monotonic() - started < 2
    log.produce([{"n": 2_000}])
    assert [e.value["n"] for e in log.read(0, 2_000)] == [2_000]  # sees what came since
    assert log._readers[0].consumer is reader
    log.close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_broker_is_one_error_within_the_timeout() -> None:
    servers = f"127.0.0.1:{_closed_port()}"
    started = time.monotonic()
    with pytest.raises(LogError) as caught:
        KafkaLog(servers, "txns", timeout_s=1.0)
    assert time.monotonic() - started < 5
    message = str(caught.value)
    assert message.startswith(f"Could not reach the Kafka log kafka://{servers}/txns: "), message
    assert caught.value.__cause__ is None


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda url, t: KafkaLog(url, t, partitions=0), "partitions must be None or .* got 0"),
        (lambda url, t: KafkaLog(url, t, timeout_s=0), "timeout_s must be .* got 0"),
        (lambda url, t: KafkaLog(url, ""), "topic must be a non-empty"),
        (lambda url, t: KafkaLog("", t), "bootstrap_servers must be"),
        (
            lambda url, t: KafkaLog(url, t, config={"no.such": "x"}),
            r"config of the Kafka log .* is not valid: No such configuration property",
        ),
        (lambda url, t: KafkaLog(url, t, partitions=2).read(2, 0), r"partition must be 0\.\.1"),
        (lambda url, t: KafkaLog(url, t).read(0, -1), "offset must be an integer of at least"),
    ],
)
def test_bad_arguments_are_one_clear_error(
    url: str,
    new_topic: Callable[[], str],
    call: Callable[[str, str], object],
    message: str,
) -> None:
    with pytest.raises(LogError, match=message):
        call(url, new_topic())


def _produce(url: str, topic: str, name: str, ack: str, seconds: float) -> None:
    """A producer process (see :func:`tests.streams._producer.produce_loop`)."""
    log = KafkaLog(url, topic)
    produce_loop(log, name, ack, seconds)
    log.close()


@pytest.mark.slow
def test_producers_and_a_reader_with_a_kill_lose_nothing_acknowledged(
    url: str, new_topic: Callable[[], str], tmp_path: Path
) -> None:
    topic, partitions, seconds = new_topic(), 4, 3.0
    log = KafkaLog(url, topic, partitions=partitions)
    acks = [tmp_path / f"ack{n}.txt" for n in range(3)]
    spawn = multiprocessing.get_context("spawn")
    procs = [
        spawn.Process(target=_produce, args=(url, topic, f"w{n}", str(a), seconds))
        for n, a in enumerate(acks)
    ]
    for proc in procs:
        proc.start()
    # A reader in a loop: each partition only grows, in offset order. Offsets need not be
    # dense (Kafka's are not guaranteed to be: a transaction marker or a broker's failed
    # append takes one). The first producer is killed once it has acknowledged 100 events
    # (however long its start took).
    # Tansu (the broker of `make test`) may make an offset visible before an earlier one that
    # a slower producer is still appending; a Kafka broker never does. The loop re-reads each
    # offset it stepped over, and an event found there later counts as read late.
    start, killed, seen = time.monotonic(), False, dict.fromkeys(range(partitions), 0)
    looped: dict[int, list[int]] = {p: [] for p in range(partitions)}  # what the loop read
    holes: dict[int, set[int]] = {p: set() for p in range(partitions)}  # stepped over
    late: dict[int, list[int]] = {p: [] for p in range(partitions)}  # found in a hole later

    def read_on() -> None:
        for p in range(partitions):
            for hole in sorted(holes[p]):
                found = [e.offset for e in log.read(p, hole, 1)]
                if found and found[0] == hole:
                    late[p].append(hole)
                    holes[p].discard(hole)
            offsets = [e.offset for e in log.read(p, seen[p])]
            assert offsets == sorted(set(offsets)) and all(o >= seen[p] for o in offsets)
            holes[p].update(set(range(seen[p], offsets[-1])) - set(offsets) if offsets else ())
            looped[p] += offsets
            seen[p] = offsets[-1] + 1 if offsets else seen[p]

    while any(p.is_alive() for p in procs) and time.monotonic() < start + seconds + 60:
        read_on()
        if not killed and acks[0].exists() and acks[0].read_text().count("\n") >= 100:
            procs[0].kill()  # SIGKILL, mid-run
            killed = True
    for proc in procs:
        proc.join(30)
    assert [p.exitcode for p in procs] == [-signal.SIGKILL, 0, 0]
    read_on()  # the rest
    events = [e for p in range(partitions) for e in log.read(p, 0, 10**9)]
    stored = {(e.partition, e.offset): e.value["id"] for e in events}
    acknowledged = read_acks(acks)  # whole lines only: the kill may cut the last one
    assert len(acknowledged) > 300
    assert any(ident.startswith("w0-") for ident in acknowledged.values())
    for where, ident in acknowledged.items():
        assert stored[where] == ident  # present, at the acknowledged offset
    idents = list(acknowledged.values())
    assert len(idents) == len(set(idents))  # no event acknowledged twice
    assert len(stored) == len(set(stored.values()))  # and none stored twice
    assert all(ident.split("-")[0] in {"w0", "w1", "w2"} for ident in stored.values())
    ends = log.end_offsets()
    for p in range(partitions):  # the loop read every stored event, and they end at the end
        assert sorted(looped[p] + late[p]) == sorted(o for q, o in stored if q == p)
        assert all(o < ends[p] for o in looped[p])
    gaps = sum(ends[p] - sum(1 for q, _ in stored if q == p) for p in range(partitions))
    read_late = sum(len(offsets) for offsets in late.values())
    print(f"{len(stored)} events stored, {gaps} offsets without one, {read_late} read late")
    log.close()


def test_reading_from_the_end_past_a_transaction_marker_is_quick_and_empty(
    url: str, new_topic: Callable[[], str]
) -> None:
    # Another producer's transaction ends with a commit marker: it takes an offset, and the
    # listed end is one past it. Reading from after the last message is reading from the end
    # (before, a reused reader waited there for a message until the timeout, then failed).
    topic = new_topic()
    log = KafkaLog(url, topic, partitions=1, timeout_s=5)
    log.produce([{"n": 0}])
    other = Producer({"bootstrap.servers": url, "transactional.id": f"tx-{topic}"})
    other.init_transactions(10)
    other.begin_transaction()
    for n in (1, 2, 3):
        other.produce(topic, value=json.dumps({"n": n}).encode(), partition=0)
    other.commit_transaction(10)
    events = log.read(0, 0)
    assert [e.value["n"] for e in events] == [0, 1, 2, 3]
    after = events[-1].offset + 1
    assert log.end_offsets()[0] > after  # the marker's offset: no message there
    for _ in range(3):  # the same reader, again and again: the end, at once
        assert log.read(0, after) == []
        assert log.read_values(0, after) == ([], [])
    (ack,) = log.produce([{"n": 4}])
    assert [(e.offset, e.value["n"]) for e in log.read(0, after)] == [(ack[1], 4)]
    log.close()
