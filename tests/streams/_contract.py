"""What every :class:`~cairn.streams.event_log.EventLog` must do, as one reusable check.

A backend's test calls ``check_event_log(make_log)`` with a function returning a fresh, empty
log of the given partition count (about 15 times: once per check and per generated example;
the caller cleans them up). Nothing here depends on a particular backend: offsets are only
required to grow per partition (dense for SQLite, usually for Kafka, sparse for Redis Streams).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cairn.streams.event_log import (
    Event,
    EventLog,
    LogError,
    ValueReader,
    key_text,
    partition_of,
)

MakeLog = Callable[[int], EventLog]
"""``make_log(partitions)``: a fresh, empty log with that many partitions."""

_HOUR_US = 3_600 * 1_000_000


def check_event_log(make_log: MakeLog) -> None:
    """Assert the whole event-log contract on logs made by ``make_log``."""
    _check_round_trip(make_log)
    _check_no_key_and_append_time(make_log)
    _check_bad_input(make_log)
    _check_random_batches(make_log)


def _values(first: int, n: int) -> list[dict[str, Any]]:
    """``n`` events with JSON values of every kind, keys 0..4, event times from 10**15."""
    return [
        {
            "id": i,
            "customer_id": i % 5,
            "amount": i * 1.25,
            "note": f"é{i}" if i % 2 else None,
            "tags": [i, "x", True],
            "at": 10**15 + i,
        }
        for i in range(first, first + n)
    ]


def _check_round_trip(make_log: MakeLog) -> None:
    partitions = 3
    log = make_log(partitions)
    try:
        assert isinstance(log, EventLog)
        assert log.partitions == partitions
        assert isinstance(log.url, str) and log.url
        assert log.end_offsets() == dict.fromkeys(range(partitions), 0)
        assert all(log.read(p, 0) == [] for p in range(partitions))
        first = _values(0, 30)
        second = _values(30, 12)
        acks = log.produce(first, key="customer_id", timestamp="at")
        ends = log.end_offsets()
        acks += log.produce(second, key="customer_id", timestamp=lambda v: int(v["at"]))
        produced = first + second
        _check_acks(log, produced, acks, "customer_id")
        for part in range(partitions):  # the second produce continues after the first
            mine = [o for p, o in acks[len(first) :] if p == part]
            assert all(o >= ends[part] for o in mine), (part, ends[part], mine)
        _check_reads(log, produced, acks, "customer_id")
    finally:
        log.close()


def _check_acks(
    log: EventLog, values: list[dict[str, Any]], acks: list[tuple[int, int]], key: str
) -> None:
    assert len(acks) == len(values)
    last: dict[int, int] = {}
    for (part, offset), value in zip(acks, values, strict=True):
        assert isinstance(part, int) and isinstance(offset, int), (part, offset)
        assert part == partition_of(key_text(value, key), log.partitions), (part, value)
        assert offset > last.get(part, -1), f"partition {part}: {offset} after {last.get(part)}"
        last[part] = offset
    ends = log.end_offsets()
    assert sorted(ends) == list(range(log.partitions))
    for part in range(log.partitions):
        if part in last:
            assert ends[part] > last[part], (part, ends[part], last[part])
        else:
            assert ends[part] == 0, (part, ends[part])


def _check_reads(
    log: EventLog, values: list[dict[str, Any]], acks: list[tuple[int, int]], key: str
) -> None:
    """Every partition reads back exactly what was acknowledged there (event time in the
    field ``at``), from any offset, at most ``max_events`` at a time."""
    ends = log.end_offsets()
    for part in range(log.partitions):
        mine = [i for i, (p, _) in enumerate(acks) if p == part]
        events = log.read(part, 0)
        assert all(isinstance(e, Event) for e in events)
        assert [(e.partition, e.offset) for e in events] == [acks[i] for i in mine]
        assert [e.value for e in events] == [values[i] for i in mine]
        assert [e.key for e in events] == [key_text(values[i], key) for i in mine]
        assert [e.timestamp_us for e in events] == [values[i]["at"] for i in mine]
        for n, event in enumerate(events):  # from each offset, and from just after it
            assert log.read(part, event.offset) == events[n:]
            assert log.read(part, event.offset + 1) == events[n + 1 :]
        for limit in (1, 2, len(events) + 1):
            assert log.read(part, 0, max_events=limit) == events[:limit]
        for n in range(0, len(events), 3):  # a limit from any offset
            assert log.read(part, events[n].offset, max_events=2) == events[n : n + 2]
        assert log.read(part, ends[part]) == []
        _check_read_values(log, part, events)


def _check_read_values(log: EventLog, part: int, events: list[Event]) -> None:
    """A log's column reads (what the stream processor uses) give what its reads give."""
    assert isinstance(log, ValueReader)
    assert log.read_values(part, 0) == ([e.offset for e in events], [e.value for e in events])
    for n in range(0, len(events), 2):
        got = log.read_values(part, events[n].offset, max_events=2)
        assert got == ([e.offset for e in events[n : n + 2]], [e.value for e in events[n : n + 2]])


def _check_no_key_and_append_time(make_log: MakeLog) -> None:
    log = make_log(4)
    try:
        before = time.time_ns() // 1000
        values: list[dict[str, Any]] = [{"n": 1}, {"n": 2, "customer_id": None}, {"n": 3}]
        acks = log.produce(values)  # no key: partition 0; no timestamp: the append time
        after = time.time_ns() // 1000
        assert [p for p, _ in acks] == [0, 0, 0]
        acks += log.produce([{"n": 4}], key="customer_id")  # a key field it lacks: no key
        assert acks[-1][0] == 0
        _check_acks(log, [*values, {"n": 4}], acks, "customer_id")
        events = log.read(0, 0)
        assert [e.value["n"] for e in events] == [1, 2, 3, 4]
        assert [e.key for e in events] == [None] * 4
        for event in events:  # µs, not ms or ns (any clock skew well under an hour)
            assert before - _HOUR_US <= event.timestamp_us <= after + _HOUR_US, event
            assert before - _HOUR_US <= event.appended_us <= after + _HOUR_US, event
    finally:
        log.close()


def _check_bad_input(make_log: MakeLog) -> None:
    log = make_log(2)
    try:
        bad: list[tuple[Callable[[], object], str]] = [
            (lambda: log.produce([{"a": 1}, cast(Any, 5)]), "Event 1"),
            (lambda: log.produce([{"a": 1}, cast(Any, ["x"])]), "Event 1"),
            (lambda: log.produce([{"t": 1}, {"t": "soon"}], timestamp="t"), "Event 1"),
            (lambda: log.produce([{"t": 1.5}], timestamp="t"), "Event 0"),
            (lambda: log.produce([{"t": True}], timestamp="t"), "Event 0"),
            (lambda: log.produce([{"a": 1}], timestamp=lambda v: cast(int, v.get("t"))), "Event 0"),
        ]
        for call, message in bad:
            with pytest.raises(LogError, match=message):
                call()
        assert log.end_offsets() == {0: 0, 1: 0}  # a refused batch appends nothing
        assert log.produce([]) == []
    finally:
        log.close()


_KEYED = st.lists(
    st.lists(
        st.tuples(st.integers(0, 20), st.integers(10**15, 2 * 10**15)), min_size=1, max_size=8
    ),
    min_size=1,
    max_size=6,
)


def _check_random_batches(make_log: MakeLog) -> None:
    @settings(max_examples=12, deadline=None, derandomize=True, database=None)
    @given(partitions=st.integers(1, 4), batches=_KEYED)
    def property_(partitions: int, batches: list[list[tuple[int, int]]]) -> None:
        log = make_log(partitions)
        try:
            produced: list[dict[str, Any]] = []
            acks: list[tuple[int, int]] = []
            for batch in batches:
                values = [
                    {"k": k, "seq": len(produced) + i, "x": x} for i, (k, x) in enumerate(batch)
                ]
                acks += log.produce(values, key="k", timestamp="x")
                produced += values
            _check_acks(log, produced, acks, "k")
            by_partition: dict[int, list[Mapping[str, Any]]] = {}
            for (part, _), value in zip(acks, produced, strict=True):
                by_partition.setdefault(part, []).append(value)
            for part in range(partitions):  # complete, in production order, nothing else
                events = log.read(part, 0, max_events=10**6)
                assert [e.offset for e in events] == [o for p, o in acks if p == part]
                assert [e.value for e in events] == by_partition.get(part, [])
                assert [e.timestamp_us for e in events] == [
                    v["x"] for v in by_partition.get(part, [])
                ]
        finally:
            log.close()

    property_()
