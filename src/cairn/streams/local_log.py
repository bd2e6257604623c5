"""The embedded durable event log: partitions, dense offsets, consumer-group checkpoints.

One SQLite file (WAL) holds a stream the way one Kafka broker would: every event is appended to
a partition chosen by its key (CRC-32 of the key, so one key is always in one partition and in
order), gets the next offset of that partition, and is acknowledged only once its transaction
committed — what :meth:`LocalLog.produce` returned is on disk, a crash or a ``kill -9`` loses
nothing acknowledged and leaves no half batch. Offsets are dense (0, 1, 2, … with no gap) because
the writers of a file are serialized (``BEGIN IMMEDIATE``); readers never block writers and see
a prefix of each partition. Consumer groups store the next offset to read per partition
(:meth:`commit` / :meth:`committed`), as Kafka's committed offsets.

Values are JSON objects (the event's fields); ``timestamp_us`` is the event time the producer
gave (µs since the epoch, UTC) and ``appended_us`` the time the log accepted it.

Example
-------
>>> import pathlib, tempfile
>>> log = LocalLog(pathlib.Path(tempfile.mkdtemp()) / "txns.db", partitions=2)
>>> acks = log.produce([{"customer_id": 1, "amount": 5.0}], key="customer_id",
...                    timestamp=lambda v: 1_000_000)
>>> partition, offset = acks[0]
>>> [(e.offset, e.value["amount"]) for e in log.read(partition, 0)]
[(0, 5.0)]
>>> log.commit("features", {partition: 1}); log.committed("features")[partition]
1
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import orjson

from cairn.streams.event_log import (
    Event,
    KeyOf,
    LogError,
    TimestampOf,
    key_text,
    partition_of,
    timestamp_of,
)

__all__ = ["Event", "LocalLog", "LogError", "partition_of"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS stream_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS stream_events (
    partition INTEGER NOT NULL, offset INTEGER NOT NULL, key TEXT,
    timestamp_us INTEGER NOT NULL, appended_us INTEGER NOT NULL, value BLOB NOT NULL,
    PRIMARY KEY (partition, offset)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS stream_group_offsets (
    grp TEXT NOT NULL, partition INTEGER NOT NULL, offset INTEGER NOT NULL,
    PRIMARY KEY (grp, partition)
) WITHOUT ROWID;
"""


class LocalLog:
    """An append-only log of JSON events in one SQLite file.

    Parameters
    ----------
    path:
        The log file (created with its folder when missing).
    partitions:
        How many partitions a new log gets. An existing log keeps its own: opening it with
        the default (1) takes whatever it has, asking for another count is a
        :class:`LogError` (keys would move between partitions).
    """

    def __init__(self, path: str | Path, *, partitions: int = 1) -> None:
        if not isinstance(partitions, int) or isinstance(partitions, bool) or partitions < 1:
            raise LogError(f"partitions must be an integer of at least 1; got {partitions!r}.")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        conn = self._conn()
        with conn:
            conn.execute("BEGIN IMMEDIATE")
            for statement in filter(str.strip, _SCHEMA.split(";")):
                conn.execute(statement)
            row = conn.execute("SELECT value FROM stream_meta WHERE name='partitions'").fetchone()
            if row is None:
                conn.execute("INSERT INTO stream_meta VALUES ('partitions', ?)", (partitions,))
                row = (partitions,)
        self.partitions = int(row[0])
        if partitions != 1 and partitions != self.partitions:
            raise LogError(
                f"The log {self.path} has {self.partitions} partitions; got partitions="
                f"{partitions} (a log keeps its partition count: keys would move)."
            )

    @property
    def url(self) -> str:
        """The log's file as a URL."""
        return f"sqlite:///{self.path}"

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")  # an acknowledged append survives power loss
            self._local.conn = conn
        return conn

    def produce(
        self,
        values: Iterable[Mapping[str, Any]],
        *,
        key: KeyOf = None,
        timestamp: TimestampOf = None,
    ) -> list[tuple[int, int]]:
        """Append ``values`` in one transaction; returns each one's ``(partition, offset)``.

        ``key`` is a field name or a function of the value (None: partition 0); ``timestamp``
        is a field of µs since the epoch or a function returning them (None: the append time).
        Returns only after the commit: every pair returned is durable.
        """
        now = time.time_ns() // 1000
        rows = []
        for i, value in enumerate(values):
            if not isinstance(value, Mapping):
                raise LogError(f"Event {i} must be a JSON object; got {type(value).__name__}.")
            text = key_text(value, key)
            ts = timestamp_of(value, timestamp, now, i)
            try:
                blob = orjson.dumps(dict(value))
            except TypeError as exc:
                raise LogError(f"Event {i} is not JSON: {exc}.") from None
            rows.append((partition_of(text, self.partitions), text, ts, blob))
        conn = self._conn()
        acks: list[tuple[int, int]] = []
        with conn:
            conn.execute("BEGIN IMMEDIATE")  # one writer at a time: offsets stay dense
            nxt = {p: self._next(conn, p) for p in {r[0] for r in rows}}
            for part, text, ts, blob in rows:
                offset = nxt.get(part, 0)
                nxt[part] = offset + 1
                conn.execute(
                    "INSERT INTO stream_events VALUES (?, ?, ?, ?, ?, ?)",
                    (part, offset, text, ts, now, blob),
                )
                acks.append((part, offset))
        return acks

    def read(self, partition: int, offset: int, max_events: int = 10_000) -> list[Event]:
        """Up to ``max_events`` events of ``partition`` from ``offset`` on, in offset order."""
        self._check_partition(partition)
        rows = self._conn().execute(
            "SELECT partition, offset, key, timestamp_us, appended_us, value FROM stream_events "
            "WHERE partition = ? AND offset >= ? ORDER BY offset LIMIT ?",
            (partition, offset, max_events),
        )
        return [Event(p, o, k, t, a, orjson.loads(v)) for p, o, k, t, a, v in rows]

    def read_values(
        self, partition: int, offset: int, max_events: int = 10_000
    ) -> tuple[list[int], list[Any]]:
        """The offsets and values of :meth:`read`'s events (see
        :class:`~cairn.streams.event_log.ValueReader`)."""
        self._check_partition(partition)
        sql = (
            "SELECT offset, value FROM stream_events WHERE partition = ? AND offset >= ? "
            "ORDER BY offset LIMIT ?"
        )
        rows = self._conn().execute(sql, (partition, offset, max_events)).fetchall()
        loads = orjson.loads
        return [o for o, _ in rows], [loads(v) for _, v in rows]

    def end_offsets(self) -> dict[int, int]:
        """Per partition: the offset the next event will get (0 for an empty partition)."""
        conn = self._conn()
        return {p: self._next(conn, p) for p in range(self.partitions)}

    @staticmethod
    def _next(conn: sqlite3.Connection, partition: int) -> int:
        """The next offset of ``partition`` (an index seek on the primary key)."""
        row = conn.execute(
            "SELECT max(offset) FROM stream_events WHERE partition = ?", (partition,)
        ).fetchone()
        return 0 if row[0] is None else int(row[0]) + 1

    def commit(self, group: str, offsets: Mapping[int, int]) -> None:
        """Record ``group``'s next offset to read per partition (atomic for the whole map)."""
        for partition in offsets:
            self._check_partition(partition)
        conn = self._conn()
        with conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(
                "INSERT INTO stream_group_offsets VALUES (?, ?, ?) ON CONFLICT (grp, partition) "
                "DO UPDATE SET offset = excluded.offset",
                [(group, p, int(o)) for p, o in offsets.items()],
            )

    def committed(self, group: str) -> dict[int, int]:
        """Per partition: ``group``'s committed next offset (0 where it never committed)."""
        found = dict(self._conn().execute(
            "SELECT partition, offset FROM stream_group_offsets WHERE grp = ?", (group,)
        ).fetchall())  # fmt: skip
        return {p: int(found.get(p, 0)) for p in range(self.partitions)}

    def _check_partition(self, partition: int) -> None:
        if not isinstance(partition, int) or not 0 <= partition < self.partitions:
            raise LogError(
                f"partition must be 0..{self.partitions - 1} for {self.path}; got {partition!r}."
            )

    def close(self) -> None:
        """Close this thread's connection."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
