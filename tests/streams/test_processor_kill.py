"""`cairn stream run` killed with SIGKILL while events arrive, on each log and online store.

For the embedded log with the SQLite online store, Redis Streams with the Redis online store
and Kafka with the SQLite online store: the test produces 6,000 events (late by up to an
hour, a few ahead by seconds, some null amounts) in batches of 100 while a real processor
process consumes them, kills it with ``kill -9`` twice at seeded moments and starts a new one
each time. After a drain (and a second one once the held events are due) every acknowledged
event landed exactly once in the batch source, the online value of every key equals the
batch engine's at times after the last commit, and ``cairn stream status`` shows no lag and
counts equal to what was produced. Then an active and a standby processor: the standby
takes over after the active one's ``kill -9``, within a poll (measured and printed; partition
locks as files beside an SQLite metadata database, and as PostgreSQL advisory locks); a
standby waiting for the lock stops on SIGTERM; an active processor whose PostgreSQL lock
connections end stops and stands by, and the standby takes over."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from cairn import Field, KafkaSource, LocalStreamSource, RedisStreamSource
from cairn.app.streaming import partition_lock
from cairn.features.stream_source import StreamSource
from tests._services import kafka_url_or_skip, postgres_database, redis_url_or_skip
from tests._watchers import lock_backend, terminate_backend
from tests.streams._kill_helpers import (
    KEYS,
    SOURCE,
    Processor,
    Producer,
    check,
    drain,
    landed_folder,
    landed_rows,
    make_project,
    processors,
    wait_for,
)

pytestmark = [
    pytest.mark.slow,  # ~50-80 s in all: each processor process takes 2-3 s to start
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="kill -9, flock, /proc"),
]

DEADLINE_S = 60.0
"""Seconds a wait for a processor may take: a fast machine needs a fraction of it, a loaded
CI machine (a process there can take tens of seconds to start or answer) still less."""
EVENTS = 6_000
BATCH = 100
SCHEMA = [Field("event_id", "int64")]


@pytest.fixture
def cleanups() -> Iterator[list[Callable[[], None]]]:
    """Callbacks run after the test (server-side keys of the test's streams and project)."""
    done: list[Callable[[], None]] = []
    yield done
    for fn in reversed(done):
        fn()


def _redis_cleanup(url: str, *patterns: str) -> Callable[[], None]:
    def clean() -> None:
        import redis

        client = redis.Redis.from_url(url)
        try:
            for pattern in patterns:
                keys = list(client.scan_iter(match=pattern, count=1000))
                if keys:
                    client.delete(*keys)
        finally:
            client.close()

    return clean


def _backend(
    backend: str, unique: str, cleanups: list[Callable[[], None]]
) -> tuple[StreamSource, str | None]:
    """The stream source and the online-store URL (None: SQLite) of one backend."""
    if backend == "local":
        return LocalStreamSource(name=SOURCE, partitions=2, schema=SCHEMA), None
    if backend == "redis":
        url = redis_url_or_skip()
        stream = f"cairn-test-kill-{unique}"
        cleanups.append(_redis_cleanup(url, f"{stream}*", f"*{unique}*"))
        return RedisStreamSource(
            name=SOURCE, stream=stream, url=url, partitions=2, schema=SCHEMA
        ), url
    url = kafka_url_or_skip()
    topic = f"cairn-test-kill-{unique}"
    return KafkaSource(
        name=SOURCE, topic=topic, bootstrap_servers=url, partitions=2, schema=SCHEMA
    ), None


def _kill_when_busy(p: Processor, rng: random.Random, root: Path) -> bool:
    """SIGKILL ``p`` a seeded 0-300 ms after its first batch (it is then working through the
    events produced while it started); returns whether the kill left a staged (uncommitted or
    unpublished) batch behind, which the next processor repairs."""
    wait_for(f"processor {p.pid} to process a batch", lambda: p.batches() > 0, timeout=120)
    time.sleep(rng.uniform(0, 0.3))
    p.kill9()
    return any(landed_folder(root).glob(".stream-*.pending*"))


@pytest.mark.parametrize("backend", ["local", "redis", "kafka"])
def test_kill_9_of_the_processor_loses_and_duplicates_nothing(
    backend: str, tmp_path: Path, cleanups: list[Callable[[], None]]
) -> None:
    unique = uuid.uuid4().hex[:12]
    source, online_url = _backend(backend, unique, cleanups)
    root = tmp_path / "project"
    root.mkdir()
    store = make_project(root, f"kill_{unique}", source, online_url)
    keeper = None
    if backend == "kafka":
        # A log kept open (on a side topic) keeps this process's idempotent producer alive:
        # each `produce` then reuses it instead of waiting ~0.5 s for a new producer id.
        from cairn.streams.kafka_log import KafkaLog

        assert isinstance(source, KafkaSource)
        keeper = KafkaLog(source.bootstrap_servers, f"{source.topic}-keeper", partitions=1)
        keeper.produce([{"warm": True}])
    rng = random.Random(f"kill-{backend}-20261206")
    kills_at = sorted(rng.sample(range(8, EVENTS // BATCH - 8), 2))
    producer = Producer(store, random.Random(f"events-{backend}-20261206"))
    staged_at_kill: list[bool] = []
    try:
        with processors(root, tmp_path / "logs") as group:
            live = group.start()
            for n in range(EVENTS // BATCH - 1):
                producer.batch(BATCH)
                if n in kills_at:
                    staged_at_kill.append(_kill_when_busy(live, rng, root))
                    live = group.start()  # resumes from the checkpoint
                time.sleep(0.05)
            wait_for("the last processor to run", lambda: live.batches() > 0, DEADLINE_S)
            live.proc.send_signal(signal.SIGTERM)  # a graceful stop ends its batch and exits
            assert live.proc.wait(timeout=DEADLINE_S) == 0, live.output()
            assert group.failures() == []
            assert all(p.batches() > 0 for p in group.all), [p.output() for p in group.all]
    finally:
        if keeper is not None:
            keeper.close()
    # the last batch has events 4-6 s ahead: the drain holds them (in its checkpoint) until due
    producer.batch(BATCH, ahead=0.1, ahead_us=4_000_000)
    drain(root, producer.latest_us)
    report = check(store, producer.acked)
    assert len(producer.acked) == EVENTS
    assert report.duplicates == []
    assert report.gaps == []
    assert report.checks == 3 * KEYS * 6
    assert report.mismatches == []
    counts = report.status["counts"]
    assert report.status["lag_events"] == 0
    assert report.status["held_now"] == 0
    assert counts["events"] == EVENTS
    assert counts["landed"] == EVENTS
    assert counts.get("dead", 0) == 0
    assert counts.get("held", 0) == counts.get("released", 0) > 0
    assert landed_rows(root) == EVENTS
    assert not (root / ".cairn" / "streams" / f"{SOURCE}.dead.jsonl").exists()
    print(
        f"{backend}: kills at batches {kills_at}, staged batch left by the kill: "
        f"{staged_at_kill}, held {counts['held']}"
    )


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_a_standby_processor_takes_over_after_kill_9(backend: str, tmp_path: Path) -> None:
    with ExitStack() as stack:
        url = None
        if backend == "postgres":  # partition locks: advisory locks of a fresh database
            url = stack.enter_context(postgres_database("standby"))
        _standby_takes_over(tmp_path, url)


def _standby_takes_over(tmp_path: Path, database_url: str | None) -> None:
    root = tmp_path / "project"
    root.mkdir()
    store = make_project(
        root, "standby", LocalStreamSource(name=SOURCE, partitions=2, schema=SCHEMA), None,
        database_url=database_url,
    )  # fmt: skip
    rng = random.Random("standby-20261206")
    producer = Producer(store, random.Random("standby-events-20261206"))
    errors: list[BaseException] = []
    stop = threading.Event()

    def produce() -> None:  # until told to stop, at most 2 * EVENTS
        try:
            while not stop.is_set() and len(producer.acked) < 2 * EVENTS:
                producer.batch(BATCH)
                time.sleep(0.05)
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    thread = threading.Thread(target=produce, daemon=True)
    try:
        with processors(root, tmp_path / "logs", database_url) as group:
            first, second = group.start(), group.start()
            thread.start()
            wait_for("a processor to run", lambda: first.batches() + second.batches() > 0, 120)
            active, standby = (first, second) if first.batches() else (second, first)
            wait_for("the standby to wait on the lock", standby.waits_on_lock, DEADLINE_S)
            wait_for("the active one's second batch", lambda: active.batches() > 1, DEADLINE_S)
            time.sleep(rng.uniform(0.3, 0.8))  # a seeded moment of its work
            assert standby.batches() == 0, "two processors of one source ran at once"
            assert standby.alive()
            killed = time.monotonic()
            active.kill9()
            landed = landed_rows(root)  # the dead one publishes nothing more
            # measured, not asserted (a loaded machine decides it; the deadline bounds it)
            wait_for("the standby's first batch", lambda: standby.batches() > 0, DEADLINE_S)
            first_batch = time.monotonic() - killed
            wait_for("landed rows to grow", lambda: landed_rows(root) > landed, DEADLINE_S)
            growth = time.monotonic() - killed
            print(
                f"standby takeover after kill -9: first batch {first_batch:.3f} s, "
                f"landed rows growing {growth:.3f} s"
            )
            time.sleep(1.0)  # the standby, now active, keeps up with the producer
            wait_for(  # however slowly a loaded machine produced until now
                f"{20 * BATCH} events produced",
                lambda: len(producer.acked) >= 20 * BATCH or not thread.is_alive(),
                DEADLINE_S,
            )
            stop.set()
            thread.join(30)
            assert not thread.is_alive()
            assert errors == []
            produced = len(producer.acked)
            wait_for(
                "the standby to catch up", lambda: landed_rows(root) > produced * 0.9, DEADLINE_S
            )
            standby.proc.send_signal(signal.SIGTERM)
            assert standby.proc.wait(timeout=DEADLINE_S) == 0, standby.output()
            assert group.failures() == []
    finally:
        stop.set()
        thread.join(30)
    assert errors == []
    drain(root, producer.latest_us)
    report = check(store, producer.acked)
    assert len(producer.acked) >= 20 * BATCH
    assert report.duplicates == []
    assert report.gaps == []
    assert report.mismatches == []
    assert report.status["lag_events"] == 0
    assert report.status["held_now"] == 0
    assert report.status["counts"]["events"] == len(producer.acked)
    assert report.status["counts"]["landed"] == len(producer.acked)
    assert landed_rows(root) == len(producer.acked)


def test_a_waiting_standby_stops_on_sigterm(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    store = make_project(root, "standby_stop", LocalStreamSource(name=SOURCE, schema=SCHEMA), None)
    Producer(store, random.Random(7)).batch(BATCH)
    with processors(root, tmp_path / "logs") as group:
        first, second = group.start(), group.start()
        wait_for("a processor to run", lambda: first.batches() + second.batches() > 0, 120)
        active, standby = (first, second) if first.batches() else (second, first)
        wait_for("the standby to wait on the lock", standby.waits_on_lock, DEADLINE_S)
        time.sleep(0.3)  # its SIGTERM handler is installed before it opens the lock file
        standby.proc.send_signal(signal.SIGTERM)
        try:  # the active one holds the lock all along: a standby ignoring SIGTERM never ends
            code = standby.proc.wait(timeout=DEADLINE_S)
        except subprocess.TimeoutExpired:
            pytest.fail(f"a standby waiting for the lock ignored SIGTERM for {DEADLINE_S} s")
        assert code == 0, standby.output()
        assert active.alive()


@pytest.mark.postgres
def test_a_processor_whose_lock_connection_ends_stops_and_the_standby_takes_over(
    tmp_path: Path,
) -> None:
    # The active processor's partition locks end with their PostgreSQL connections while it
    # lives (as after a server restart or a network cut): it notices before its next batch,
    # says so, processes nothing more and waits as a standby; the standby takes over. Events
    # go on arriving through the cut: a batch the old one had in flight when the standby
    # claimed the partitions is refused (fenced), so nothing lands twice.
    with postgres_database("cut") as url:
        root = tmp_path / "project"
        root.mkdir()
        store = make_project(
            root, "cut", LocalStreamSource(name=SOURCE, partitions=2, schema=SCHEMA), None,
            database_url=url,
        )  # fmt: skip
        producer = Producer(store, random.Random("cut-events-20261207"))
        with processors(root, tmp_path / "logs", url) as group:
            first, second = group.start(), group.start()
            for _ in range(5):
                producer.batch(BATCH, ahead=0.0)
            wait_for("a processor to run", lambda: first.batches() + second.batches() > 0, 120)
            active, standby = (first, second) if first.batches() else (second, first)
            wait_for("the standby to wait on the lock", standby.waits_on_lock, DEADLINE_S)
            wait_for("the batches to land", lambda: landed_rows(root) == 5 * BATCH, DEADLINE_S)
            assert standby.batches() == 0, "two processors of one source ran at once"
            locks = [partition_lock("cut", SOURCE, p) for p in range(2)]
            producer.batch(BATCH, ahead=0.0)
            terminate_backend(url, *(lock_backend(url, lock) for lock in locks))
            cut = time.monotonic()
            for _ in range(2):
                producer.batch(BATCH, ahead=0.0)
            wait_for(
                "the old one to say so", lambda: "Lost leadership" in active.output(), DEADLINE_S
            )
            batches = active.batches()
            for _ in range(2):
                producer.batch(BATCH, ahead=0.0)
            wait_for("the standby's first batch", lambda: standby.batches() > 0, DEADLINE_S)
            took = time.monotonic() - cut
            wait_for("the batches to land", lambda: landed_rows(root) == 10 * BATCH, DEADLINE_S)
            fenced = "another processor claimed" in active.output()
            print(
                f"standby takeover after the active one's lock connections ended: {took:.3f} s"
                f" (the old one noticed by {'a refused commit' if fenced else 'its check'})"
            )
            assert active.batches() == batches and active.alive()  # a standby now
            assert active.output().count("Lost leadership") == 1
            for p in (standby, active):
                p.proc.send_signal(signal.SIGTERM)
                assert p.proc.wait(timeout=DEADLINE_S) == 0, p.output()
            assert group.failures() == []
        drain(root, producer.latest_us)
        report = check(store, producer.acked)
    assert report.duplicates == [] and report.gaps == [] and report.mismatches == []
    assert landed_rows(root) == len(producer.acked) == 10 * BATCH
