"""The Redis Streams log on a real server: it keeps the event-log contract, keeps its partition
count, hides the password of a server it cannot reach, and several producers with a reader in
loops and a kill -9 lose no acknowledged event and duplicate none."""

from __future__ import annotations

import multiprocessing
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import cast

import pytest
import redis

from cairn.streams.event_log import LogError, partition_of
from cairn.streams.redis_log import RedisStreamLog, entry_id, entry_offset
from tests._services import redis_url_or_skip
from tests.streams._contract import check_event_log
from tests.streams._producer import acknowledged as read_acks
from tests.streams._producer import produce_loop


@pytest.fixture
def url() -> str:
    return redis_url_or_skip()


@pytest.fixture
def new_stream(url: str) -> Iterator[Callable[[], str]]:
    """Unique stream names; every key of each is deleted after the test."""
    names: list[str] = []

    def new() -> str:
        names.append(f"cairn-test-log-{uuid.uuid4().hex[:12]}")
        return names[-1]

    yield new
    client = redis.Redis.from_url(url)
    try:
        for name in names:
            keys = [name, *client.scan_iter(match=f"{name}:*", count=1000)]
            client.delete(*keys)
    finally:
        client.close()


def test_redis_stream_log_keeps_the_event_log_contract(
    url: str, new_stream: Callable[[], str]
) -> None:
    check_event_log(lambda partitions: RedisStreamLog(url, new_stream(), partitions=partitions))


def test_offsets_are_the_entry_ids(url: str, new_stream: Callable[[], str]) -> None:
    log = RedisStreamLog(url, new_stream(), partitions=2)
    [(part, offset)] = log.produce([{"customer_id": 7}], key="customer_id")
    assert log.key(part) == f"{log.stream}:{part}"
    [(entry, fields)] = cast(
        "list[tuple[bytes, dict[bytes, bytes]]]", log._client.xrange(log.key(part))
    )
    assert entry_offset(entry) == entry_offset(entry.decode()) == offset
    assert entry_id(offset) == entry.decode()
    assert fields[b"k"] == b"7" and fields[b"v"] == b'{"customer_id":7}'
    [event] = log.read(part, 0)
    assert event.appended_us == offset // 1_000_000 * 1000
    assert log.end_offsets()[part] == offset + 1
    assert RedisStreamLog(url, log.stream).url == f"{url}#{log.stream}"


def test_reopening_keeps_the_partition_count(url: str, new_stream: Callable[[], str]) -> None:
    stream = new_stream()
    assert RedisStreamLog(url, stream, partitions=3).partitions == 3
    assert RedisStreamLog(url, stream).partitions == 3  # the default takes what exists
    assert RedisStreamLog(url, stream, partitions=3).partitions == 3
    with pytest.raises(LogError, match=r"#cairn-test-log-\w+ has 3 partitions; got partitions=2"):
        RedisStreamLog(url, stream, partitions=2)


def test_an_unreachable_server_is_one_error_without_the_password() -> None:
    started = time.monotonic()
    with pytest.raises(LogError) as caught:
        RedisStreamLog("redis://u:secret@127.0.0.1:1/0", "s", timeout_ms=500)
    message = str(caught.value)
    assert (
        message == "Cannot reach the event log redis://u:***@127.0.0.1:1/0#s: Connection refused."
    )
    assert "secret" not in repr(caught.value) and caught.value.__cause__ is None
    assert time.monotonic() - started < 5


def test_a_wrong_password_is_one_error_without_it(url: str) -> None:
    wrong = url.replace("redis://", "redis://nobody:secret@", 1)
    with pytest.raises(LogError, match=r"refused the credentials") as caught:
        RedisStreamLog(wrong, "s")
    assert "secret" not in str(caught.value) and "nobody:***@" in str(caught.value)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda url, s: RedisStreamLog(url, s, partitions=0), "partitions must be .* got 0"),
        (lambda url, s: RedisStreamLog(url, s, timeout_ms=0), "timeout_ms must be .* got 0"),
        (lambda url, s: RedisStreamLog(url, ""), "stream must be a non-empty string"),
        (
            lambda url, s: RedisStreamLog("http://x", s),
            r"url must be a Redis URL .*; got 'http://x'",
        ),
        (
            lambda url, s: RedisStreamLog(url, s, partitions=2).read(2, 0),
            r"partition must be 0\.\.1",
        ),
        (lambda url, s: RedisStreamLog(url, s).read(0, -1), "offset must be a non-negative"),
        (lambda url, s: RedisStreamLog(url, s).produce([{"v": object()}]), "Event 0 is not JSON"),
    ],
)
def test_bad_arguments_are_one_clear_error(
    url: str, new_stream: Callable[[], str], call: Callable[[str, str], object], message: str
) -> None:
    with pytest.raises(LogError, match=message):
        call(url, new_stream())


def test_a_key_of_another_type_or_foreign_entries_are_one_clear_error(
    url: str, new_stream: Callable[[], str]
) -> None:
    log = RedisStreamLog(url, new_stream())
    log._client.set(log.stream, "not a stream")
    with pytest.raises(LogError, match=r"Redis failed on the event log .*: WRONGTYPE"):
        log.produce([{"a": 1}])
    with pytest.raises(LogError, match=r"the key 'cairn-test-log-\w+' of .*WRONGTYPE"):
        log.end_offsets()
    log._client.delete(log.stream)
    log._client.xadd(log.stream, {"other": "app"})
    with pytest.raises(LogError, match=r"Entry \d+-0 of 'cairn-test-log-\w+' .* is not an event"):
        log.read(0, 0)
    with pytest.raises(LogError, match=r"Entry \d+-0 of 'cairn-test-log-\w+' .* is not an event"):
        log.read_values(0, 0)


def _produce(url: str, stream: str, name: str, ack: str, seconds: float) -> None:
    """A producer process (see :func:`tests.streams._producer.produce_loop`)."""
    log = RedisStreamLog(url, stream)
    produce_loop(log, name, ack, seconds)
    log.close()


@pytest.mark.slow
def test_producers_and_a_reader_with_a_kill_lose_nothing_acknowledged(
    url: str, new_stream: Callable[[], str], tmp_path: Path
) -> None:
    stream, partitions, seconds = new_stream(), 4, 6.0
    log = RedisStreamLog(url, stream, partitions=partitions)
    acks = [tmp_path / f"ack{n}.txt" for n in range(3)]
    spawn = multiprocessing.get_context("spawn")
    # the first producer runs until it is killed (a loaded box can take longer than `seconds`
    # to start it and reach the kill's threshold: it must still be running then)
    runs = [seconds + 300, seconds, seconds]
    procs = [
        spawn.Process(target=_produce, args=(url, stream, f"w{n}", str(a), runs[n]))
        for n, a in enumerate(acks)
    ]
    for proc in procs:
        proc.start()
    # A reader in a loop: each partition only grows, in offset order.
    start, killed, seen = time.monotonic(), False, dict.fromkeys(range(partitions), 0)
    while any(p.is_alive() for p in procs) and time.monotonic() < start + seconds + 120:
        for p in range(partitions):
            offsets = [e.offset for e in log.read(p, seen[p])]
            assert offsets == sorted(set(offsets)) and all(o >= seen[p] for o in offsets)
            seen[p] = offsets[-1] + 1 if offsets else seen[p]
        # SIGKILL mid-run, once the first producer has acknowledged a few hundred events (a
        # loaded box can take seconds to start a spawned process: never kill it before)
        if not killed and acks[0].exists() and acks[0].stat().st_size > 4096:
            procs[0].kill()
            killed = True
    if not killed:  # a failed run leaves no producer writing on
        procs[0].kill()
    for proc in procs:
        proc.join(60)
    assert killed, "the first producer never acknowledged 4 KiB of events"
    assert [p.exitcode for p in procs] == [-signal.SIGKILL, 0, 0]
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
    ends = log.end_offsets()
    for p in range(partitions):
        offsets = [e.offset for e in events if e.partition == p]
        assert offsets == sorted(set(offsets)) and (not offsets or ends[p] > offsets[-1])
    # One key's events stay in one partition, in each producer's order.
    order: dict[tuple[str, str], list[int]] = {}
    for e in events:
        assert e.partition == partition_of(e.key, partitions)
        name, n = e.value["id"].split("-")
        order.setdefault((name, str(e.key)), []).append(int(n))
    assert all(ns == sorted(ns) for ns in order.values())
