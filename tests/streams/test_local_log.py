"""The embedded durable log: keys stay in their partition and in order, offsets are dense, group
offsets are Kafka-like, bad input is one clear error, and several producers with readers in
loops and a kill -9 lose no acknowledged event and duplicate none."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cairn.streams import LocalLog, LogError
from cairn.streams.local_log import partition_of
from tests.streams._producer import acknowledged as read_acks

ROOT = Path(__file__).resolve().parents[2]


def test_events_keep_their_key_partition_order_and_fields(tmp_path: Path) -> None:
    log = LocalLog(tmp_path / "s.db", partitions=3)
    values = [{"customer_id": i % 4, "amount": float(i), "at": 1000 + i} for i in range(20)]
    acks = log.produce(values, key="customer_id", timestamp="at")
    for (part, _), value in zip(acks, values, strict=True):
        assert part == partition_of(str(value["customer_id"]), 3)
    read = [e for p in range(3) for e in log.read(p, 0)]
    assert sorted((e.partition, e.offset) for e in read) == sorted(acks)
    by_key: dict[str, list[float]] = {}
    for e in sorted(read, key=lambda e: (e.partition, e.offset)):
        by_key.setdefault(e.key or "", []).append(e.value["amount"])
        assert e.timestamp_us == e.value["at"]
    for key, amounts in by_key.items():  # one key: one partition, in production order
        assert amounts == [v["amount"] for v in values if str(v["customer_id"]) == key]
    assert log.end_offsets() == {p: len(log.read(p, 0)) for p in range(3)}


def test_group_offsets_and_reopening(tmp_path: Path) -> None:
    log = LocalLog(tmp_path / "s.db", partitions=2)
    assert log.committed("g") == {0: 0, 1: 0}
    log.commit("g", {1: 7})
    assert LocalLog(tmp_path / "s.db").committed("g") == {0: 0, 1: 7}  # reopened: same log
    assert LocalLog(tmp_path / "s.db").partitions == 2
    with pytest.raises(LogError, match="has 2 partitions; got partitions=3"):
        LocalLog(tmp_path / "s.db", partitions=3)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda log: LocalLog(log.path.parent / "x.db", partitions=0), "at least 1"),
        (lambda log: log.produce([5]), "Event 0 must be a JSON object; got int"),
        (lambda log: log.produce([{"t": "x"}], timestamp="t"), "timestamp must be integer"),
        (lambda log: log.produce([{"v": object()}]), "Event 0 is not JSON"),
        (lambda log: log.read(4, 0), "partition must be 0..1"),
        (lambda log: log.commit("g", {-1: 0}), "partition must be 0..1"),
    ],
)
def test_bad_input_is_one_clear_error(tmp_path: Path, call: object, message: str) -> None:
    log = LocalLog(tmp_path / "s.db", partitions=2)
    with pytest.raises(LogError, match=message):
        call(log)  # type: ignore[operator]
    assert log.end_offsets() == {0: 0, 1: 0}  # a refused batch appends nothing


@settings(max_examples=30, deadline=None, derandomize=True)
@given(batches=st.lists(st.lists(st.integers(0, 9), min_size=1, max_size=6), max_size=8))
def test_offsets_are_dense_per_partition(tmp_path_factory: pytest.TempPathFactory,
                                         batches: list[list[int]]) -> None:  # fmt: skip
    log = LocalLog(tmp_path_factory.mktemp("dense") / "s.db", partitions=3)
    for batch in batches:
        log.produce([{"k": k} for k in batch], key="k")
    for p in range(3):
        assert [e.offset for e in log.read(p, 0)] == list(range(log.end_offsets()[p]))
    assert sum(log.end_offsets().values()) == sum(map(len, batches))


@pytest.mark.slow
def test_producers_and_readers_with_a_kill_lose_nothing_acknowledged(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    log = LocalLog(path, partitions=4)
    seconds = 6.0
    acks = [tmp_path / f"ack{n}.txt" for n in range(3)]
    # the first producer runs until it is killed (a loaded box can take longer than `seconds`
    # to start it and reach the kill's threshold: it must still be running then)
    runs = [seconds + 300, seconds, seconds]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.streams._producer",
                str(path),
                f"w{n}",
                str(a),
                str(runs[n]),
            ],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        for n, a in enumerate(acks)
    ]
    try:
        deadline, killed, seen = time.monotonic() + seconds, False, {p: 0 for p in range(4)}
        # a reader in a loop (each partition only grows, densely) until the run is over and the
        # first producer was killed
        while time.monotonic() < deadline or (not killed and time.monotonic() < deadline + 120):
            for p in range(4):
                offsets = [e.offset for e in log.read(p, seen[p])]
                assert offsets == list(range(seen[p], seen[p] + len(offsets)))
                seen[p] += len(offsets)
            # SIGKILL mid-run, once the first producer has acknowledged something (a loaded box
            # can take seconds to start it: never kill it before)
            if not killed and acks[0].exists() and acks[0].stat().st_size > 2048:
                procs[0].send_signal(signal.SIGKILL)
                killed = True
        assert killed, "the first producer never acknowledged 2 KiB of events"
        codes = [p.wait(60) for p in procs]
    finally:  # a failed check leaves no producer writing on
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
    assert codes[0] == -signal.SIGKILL and codes[1:] == [0, 0], codes
    stored = {
        (e.partition, e.offset): e.value["id"] for p in range(4) for e in log.read(p, 0, 10**9)
    }
    acknowledged = read_acks(acks)  # whole lines only: the kill may cut the last one
    assert len(acknowledged) > 100
    for where, ident in acknowledged.items():
        assert stored[where] == ident  # present, at the acknowledged offset
    ids = list(stored.values())
    assert len(ids) == len(set(ids))  # no duplicates
    for p in range(4):
        assert sorted(o for q, o in stored if q == p) == list(range(log.end_offsets()[p]))
