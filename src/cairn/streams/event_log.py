"""What every event log a streaming view consumes must do (embedded SQLite, Redis Streams, Kafka).

A log has ``partitions`` numbered ``0..partitions-1``; an event's partition is chosen by its key
(one key is always in one partition, in order). Each event of a partition has an integer
``offset``; offsets grow with the order of appends (the embedded log: dense ``0, 1, 2, ...``;
Kafka: usually dense, but a transaction marker or compaction skips some; Redis Streams: the
entry id ``ms-seq`` as ``ms * 1_000_000 + seq``). No reader may count on dense offsets: the
next read starts one past the last offset read. The
stream processor never relies on the log's own consumer groups: it stores the next offset to
read per partition with the tiles it wrote, in one commit, and asks the log for events from that
offset on. So every backend needs only:

* :meth:`EventLog.produce`: append JSON objects durably, returning ``(partition, offset)`` per
  event only after the log acknowledged them;
* :meth:`EventLog.read`: events of one partition with ``offset >= from_offset``, in order;
* :meth:`EventLog.end_offsets`: per partition, an offset greater than every stored event's
  (what the next read from the end would start at), for lag;
* :meth:`EventLog.close`.

An event's ``timestamp_us`` is its event time (µs since the epoch, UTC) as the producer gave it,
``appended_us`` when the log accepted it (the broker's append time where it has one, else the
producer's clock at append); both are the same on every read of the event.

What the contract (``tests/streams/_contract.py``, run against every backend) holds a log to:

* a read returns every event acknowledged before it, in offset order; an offset past the end
  gives ``[]``;
* a ``produce`` that returned is durable (Redis: as durable as the server's AOF setting); one
  that raised may have appended part of its batch (the embedded log appends all or nothing),
  so retrying it is at-least-once;
* an event's partition is ``partition_of(key)`` (CRC-32, on every backend, so one key sits in
  the same partition wherever it is produced; Kafka's own default partitioner, murmur2, would
  place keys from other producers elsewhere: produce through Cairn or set the partition).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from cairn.core.errors import CairnError
from cairn.core.online import partition_of as partition_of  # its old import path

KeyOf = str | Callable[[Mapping[str, Any]], Any] | None
"""A field name, a function of the event, or None (no key: partition 0)."""
TimestampOf = str | Callable[[Mapping[str, Any]], int] | None
"""A field of integer µs since the epoch, a function returning them, or None (append time)."""


class LogError(CairnError):
    """A log that cannot be opened or reached as asked, or an event that cannot be appended."""


@dataclass(frozen=True)
class Event:
    """One event of a partition."""

    partition: int
    offset: int
    key: str | None
    timestamp_us: int
    appended_us: int
    value: dict[str, Any]


@runtime_checkable
class EventLog(Protocol):
    """An append-only, partitioned log of JSON events."""

    partitions: int

    @property
    def url(self) -> str:
        """Where the log is, for messages (any password hidden)."""
        ...

    def produce(
        self,
        values: Iterable[Mapping[str, Any]],
        *,
        key: KeyOf = None,
        timestamp: TimestampOf = None,
    ) -> list[tuple[int, int]]:
        """Append ``values``; returns each one's ``(partition, offset)`` once durable."""
        ...

    def read(self, partition: int, offset: int, max_events: int = 10_000) -> list[Event]:
        """Up to ``max_events`` events of ``partition`` with offset ``>= offset``, in order."""
        ...

    def end_offsets(self) -> dict[int, int]:
        """Per partition: an offset above every stored event's (0 for an empty partition)."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


@runtime_checkable
class ValueReader(Protocol):
    """A log that also reads a partition as columns, for the stream processor: it needs only
    each event's offset and value, and building an :class:`Event` per event cost it more than
    reading the values."""

    def read_values(
        self, partition: int, offset: int, max_events: int = 10_000
    ) -> tuple[list[int], list[Any]]:
        """The offsets and values of ``read(partition, offset, max_events)``: the same events,
        the same checks and errors."""
        ...


def key_text(value: Mapping[str, Any], key: KeyOf) -> str | None:
    """The key of one event as text (None without a key)."""
    k = value.get(key) if isinstance(key, str) else key(value) if key is not None else None
    return None if k is None else str(k)


def timestamp_of(value: Mapping[str, Any], timestamp: TimestampOf, now_us: int, i: int) -> int:
    """The event time of one event in µs; a :class:`LogError` naming event ``i`` when it is
    not an integer."""
    ts = (
        value.get(timestamp)
        if isinstance(timestamp, str)
        else (timestamp(value) if timestamp is not None else now_us)
    )
    if not isinstance(ts, int) or isinstance(ts, bool):
        raise LogError(f"Event {i}'s timestamp must be integer µs; got {ts!r}.")
    return ts
