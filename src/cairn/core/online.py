"""The online store contract: what every backend (SQLite, Redis) must do.

Two kinds of records, both keyed by ``(view, entity key)``:

* :class:`SnapshotRecord` — the winning row of a snapshot view: its order
  ``(event_ts, created_ts, seq)`` and its feature values. A write replaces the stored record only
  when its order is greater, so an older value never overwrites a newer one.
* :class:`TileRecord` — the partial aggregation states of one hop tile of a windowed view (one
  state per aggregation), computed from every event of the tile known at ``asof``. A write
  replaces the stored tile only when its ``asof`` is not older, so re-writing is idempotent.

Entity keys are strings (see :func:`encode_key`); values and states are JSON-ready.

Reads of several views at once are a list of :data:`ReadRequest` (:class:`SnapshotRead`,
:class:`TileRead`) answered by :func:`read_many`: in one round trip when the store implements
:class:`BatchReader` (Redis), else by one :meth:`~OnlineStore.read` or
:meth:`~OnlineStore.read_tiles` per request.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeAlias, runtime_checkable

from cairn.core.types import Micros

KEY_SEPARATOR = "\x1f"


def encode_key(values: Sequence[Any]) -> str:
    """The storage key of an entity: its join-key values joined by the unit separator.

    Example
    -------
    >>> encode_key([42]), encode_key(["acct", 7])
    ('42', 'acct\\x1f7')
    """
    return KEY_SEPARATOR.join(str(v) for v in values)


def partition_of(key: str | None, partitions: int) -> int:
    """The partition of ``key`` (an event key: :func:`encode_key` of its join keys): CRC-32
    of its UTF-8 text modulo ``partitions`` (0 for None); every event log uses it.

    Example
    -------
    >>> partition_of(None, 4), partition_of("42", 1)
    (0, 0)
    """
    return 0 if key is None else zlib.crc32(key.encode()) % partitions


@dataclass(frozen=True, slots=True)
class SnapshotRecord:
    """The latest visible row of a snapshot view for one entity."""

    key: str
    event_ts: Micros
    created_ts: Micros
    seq: int
    values: list[Any]

    @property
    def order(self) -> tuple[int, int, int]:
        """``(event_ts, created_ts, seq)``: the greater record wins."""
        return (self.event_ts, self.created_ts, self.seq)


EncodedRecord = tuple[str, int, int, int, bytes]
"""``(key, event_ts, created_ts, seq, JSON array of the values)``."""


@dataclass(frozen=True, slots=True)
class TileRecord:
    """Partial states of one hop tile ``[start, start + hop)`` of a windowed view."""

    key: str
    group: str
    """The tile family: aggregations sharing a hop share tiles (e.g. ``"1h"``)."""
    start: Micros
    asof: Micros
    states: dict[str, Any]


@runtime_checkable
class OnlineStore(Protocol):
    """Low-latency storage of materialized features."""

    url: str

    def write(self, view: str, records: Sequence[SnapshotRecord]) -> int:
        """Upsert records, keeping the greater order per key; returns how many were stored."""
        ...

    def write_encoded(self, view: str, rows: Sequence[EncodedRecord]) -> int:
        """:meth:`write` with each record's values already a JSON array (the bulk path of
        materialization, where the encoding is done by the query engine)."""
        ...

    def read(self, view: str, keys: Sequence[str]) -> list[SnapshotRecord | None]:
        """The stored record of each key (None when absent), in the order of ``keys``."""
        ...

    def write_tiles(self, view: str, tiles: Sequence[TileRecord]) -> int:
        """Upsert tiles unless the stored one has a later ``asof``; returns how many were stored."""
        ...

    def read_tiles(
        self, view: str, group: str, keys: Sequence[str], start: Micros, end: Micros
    ) -> list[list[TileRecord]]:
        """Tiles of each key with ``start <= tile.start <= end``, per key in key order."""
        ...

    def delete_view(self, view: str) -> None:
        """Drop everything stored for a view."""
        ...

    def ping(self) -> None:
        """Raise :class:`~cairn.core.errors.OnlineStoreError` when the store is unreachable."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


@dataclass(frozen=True, slots=True)
class StreamFence:
    """A processor's claim on the partitions it reads: one fence ``name`` per partition,
    each set to the processor's ``token`` when it took the partitions' locks. A commit made
    with the fence lands only while every fence still holds the token, so a processor that
    lost its lock (and whose partitions another took and claimed) cannot land a batch it had
    in flight."""

    names: tuple[str, ...]
    token: bytes


@runtime_checkable
class StreamCommitter(Protocol):
    """An online store a stream processor can commit to: tiles and the processor's checkpoint
    in one atomic step (SQLite: one transaction; Redis: one Lua script call), so a crash
    leaves either both or neither and a restart resumes exactly where the tiles are."""

    def commit_stream(
        self,
        name: str,
        tiles: Sequence[tuple[str, TileRecord]],
        checkpoint: bytes,
        *,
        fence: StreamFence | None = None,
    ) -> None:
        """Replace each ``(view, tile)`` (no ``asof`` guard: the processor owns its tiles) and
        set the checkpoint ``name``, atomically. With ``fence``, only while every fence
        holds its token; else raise :class:`~cairn.core.errors.StreamFencedError` and change
        nothing."""
        ...

    def claim_stream_fence(self, fence: StreamFence) -> None:
        """Set every fence of ``fence`` to its token (the caller holds the partitions'
        locks): from then on, commits fenced with an older token are refused."""
        ...

    def read_stream_checkpoint(self, name: str) -> bytes | None:
        """The checkpoint last committed under ``name`` (None before the first commit)."""
        ...


EncodedTile = tuple[str, str, str, Micros, Micros, bytes]
"""``(view, group, key, start, asof, states)`` of a tile, the states already JSON
(``orjson.dumps(TileRecord.states)``, the bytes a store keeps)."""


@runtime_checkable
class EncodedStreamCommitter(Protocol):
    """A stream committer that also takes tiles already encoded: the stream processor keeps
    the states it committed as JSON, so encoding them twice, and a record per tile, is saved."""

    def commit_stream_encoded(
        self,
        name: str,
        tiles: Sequence[EncodedTile],
        checkpoint: bytes,
        *,
        fence: StreamFence | None = None,
    ) -> None:
        """:meth:`StreamCommitter.commit_stream` of encoded tiles (same atomicity, same
        stored bytes, same fence)."""
        ...


@dataclass(frozen=True, slots=True)
class SnapshotRead:
    """A request for :meth:`OnlineStore.read` ``(view, keys)`` within :func:`read_many`."""

    view: str
    keys: Sequence[str]


@dataclass(frozen=True, slots=True)
class TileRead:
    """A request for :meth:`OnlineStore.read_tiles` within :func:`read_many`."""

    view: str
    group: str
    keys: Sequence[str]
    start: Micros
    end: Micros


ReadRequest: TypeAlias = SnapshotRead | TileRead
ReadResult: TypeAlias = list[SnapshotRecord | None] | list[list[TileRecord]]
"""What ``read`` answers to a :class:`SnapshotRead`, or ``read_tiles`` to a :class:`TileRead`."""


@runtime_checkable
class BatchReader(Protocol):
    """An online store that answers several reads together (e.g. in one network round trip)."""

    def read_many(self, requests: Sequence[ReadRequest]) -> list[ReadResult]:
        """The answer to each request, in request order, equal to the one-by-one reads."""
        ...


def read_each(store: OnlineStore, requests: Sequence[ReadRequest]) -> list[ReadResult]:
    """The answer to each request from one ``read`` or ``read_tiles`` call per request.

    Example
    -------
    >>> class Empty:
    ...     def read(self, view, keys):
    ...         return [None] * len(keys)
    ...
    ...     def read_tiles(self, view, group, keys, start, end):
    ...         return [[] for _ in keys]
    >>> read_each(Empty(), [SnapshotRead("v", ["a", "b"]), TileRead("w", "1h", ["a"], 0, 9)])
    [[None, None], [[]]]
    """
    out: list[ReadResult] = []
    for r in requests:
        if isinstance(r, SnapshotRead):
            out.append(store.read(r.view, r.keys))
        else:
            out.append(store.read_tiles(r.view, r.group, r.keys, r.start, r.end))
    return out


def read_many(store: OnlineStore, requests: Sequence[ReadRequest]) -> list[ReadResult]:
    """The answer to each request: the store's :meth:`BatchReader.read_many` when it has one,
    else :func:`read_each`."""
    batched: Callable[[Sequence[ReadRequest]], list[ReadResult]] | None = getattr(
        store, "read_many", None
    )
    if batched is None:
        return read_each(store, requests)
    return batched(requests)
