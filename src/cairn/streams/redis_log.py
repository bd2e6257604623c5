"""An event log in Redis Streams: one stream key per partition, offsets from the entry ids.

Partition ``p`` of the log ``stream`` is the Redis stream ``stream`` when the log has one
partition, else ``stream:p``; the hash ``stream:meta`` keeps the partition count (set once, with
``HSETNX``), so every producer and reader of the log agrees on where a key goes. An event is
one entry with the fields ``k`` (its key; absent without one), ``t`` (event time, µs since the
epoch, as decimal text) and ``v`` (the value as JSON). Redis gives every entry an id ``ms-seq``
that only grows within a stream; its offset is ``ms * 1_000_000 + seq`` (:func:`entry_offset`),
so offsets grow with the appends, with gaps, and an offset maps back to an id
(:func:`entry_id`) from which ``XRANGE`` reads on. ``appended_us`` is the id's ``ms`` in µs.

No consumer group. The stream processor stores the next offset to read per partition in the
same commit as the tiles it wrote and reads on from there; that checkpoint, not the log, is
what makes processing exactly-once, and a lock keeps one processor active at a time. A Redis
consumer group would only get in the way: its pending list is acknowledged separately from the
tiles, so after a crash it would redeliver entries whose tiles were already committed (or, acked
first, lose entries whose tiles were not). Reading by offset with ``XRANGE`` needs neither
``XREADGROUP`` nor ``XACK``.

Durability is the server's: :meth:`RedisStreamLog.produce` returns once Redis answered every
``XADD``, so an acknowledged event survives any producer or reader crash, and a server crash
as far as its persistence allows (``appendonly yes`` with ``appendfsync always`` loses nothing
acknowledged; the default ``everysec`` may lose the last second). A batch is one round trip in
one ``MULTI``/``EXEC``: other producers' entries never land between its entries of a partition,
and a connection lost before ``EXEC`` appends none of it. Nothing is retried behind the caller's
back (a resent ``XADD`` whose answer was lost would append twice): a produce that raised
:class:`~cairn.streams.event_log.LogError` may or may not have appended its batch, and the
caller decides whether to send it again (at least once).

Example
-------
The offset of an entry id and back:

>>> entry_offset(b"1767225600000-7")
1767225600000000007
>>> entry_id(1767225600000000007)
'1767225600000-7'
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any, cast

import orjson

from cairn.core.errors import DependencyMissingError
from cairn.core.urls import redact_url
from cairn.streams.event_log import (
    Event,
    KeyOf,
    LogError,
    TimestampOf,
    key_text,
    partition_of,
    timestamp_of,
)

try:
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry
    from redis.typing import EncodableT, FieldT
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise DependencyMissingError(
        "The Redis Streams event log needs the optional dependency 'redis'; "
        "install it with: pip install 'cairn[redis]'"
    ) from exc

__all__ = ["RedisStreamLog", "entry_id", "entry_offset"]

_SEQ = 1_000_000
"""Offsets are ``ms * _SEQ + seq``: room for a million entries per millisecond of a stream."""


def entry_offset(entry: bytes | str) -> int:
    """The offset of the stream entry id ``ms-seq``: ``ms * 1_000_000 + seq``.

    Raises :class:`~cairn.streams.event_log.LogError` for a ``seq`` of a million or more (a
    million entries in one millisecond, or a server clock set far back): its offset would
    collide with the next millisecond's.

    Example
    -------
    >>> entry_offset("1767225600000-0"), entry_offset(b"0-1")
    (1767225600000000000, 1)
    """
    if isinstance(entry, bytes):  # what Redis answers: ASCII digits, parsed without decoding
        ms_bytes, _, seq_bytes = entry.partition(b"-")
        if ms_bytes.isdigit() and seq_bytes.isdigit():
            n = int(seq_bytes)
            if n < _SEQ:
                return int(ms_bytes) * _SEQ + n
    text = entry.decode() if isinstance(entry, bytes) else entry
    ms, _, seq = text.partition("-")
    if not (ms.isdigit() and seq.isdigit()) or int(seq) >= _SEQ:
        raise LogError(
            f"Stream entry id {text!r} cannot be an offset: expected 'ms-seq' with seq below "
            f"{_SEQ:_}."
        )
    return int(ms) * _SEQ + int(seq)


def entry_id(offset: int) -> str:
    """The stream entry id of ``offset`` (the inverse of :func:`entry_offset`).

    Example
    -------
    >>> entry_id(0), entry_id(1767225600000000007)
    ('0-0', '1767225600000-7')
    """
    return f"{offset // _SEQ}-{offset % _SEQ}"


class RedisStreamLog:
    """An append-only, partitioned log of JSON events in Redis Streams (a standalone server).

    Parameters
    ----------
    url:
        The server, e.g. ``redis://:password@host:6379/0`` (``rediss://`` and ``unix://`` too).
    stream:
        The log's name: the key of its one partition, or the prefix of ``stream:0``,
        ``stream:1``, ... and of ``stream:meta``.
    partitions:
        How many partitions a new log gets. An existing log keeps its own: opening it with
        the default (1) takes whatever it has, asking for another count is a
        :class:`~cairn.streams.event_log.LogError` (keys would move between partitions).
    timeout_ms:
        Socket connect and read timeout; an unreachable server fails within it.

    Raises
    ------
    LogError
        A bad argument, or a server that cannot be reached, refuses the credentials or does
        not answer in time (the message names the URL with any password hidden).

    Example
    -------
    >>> RedisStreamLog("redis://:s3cret@127.0.0.1:1/0", "txns", timeout_ms=200)
    Traceback (most recent call last):
    ...
    cairn.streams.event_log.LogError: Cannot reach the event log redis://:***@127.0.0.1:1/0#txns: Connection refused.
    """  # noqa: E501

    def __init__(
        self, url: str, stream: str, *, partitions: int = 1, timeout_ms: int = 2000
    ) -> None:
        if not isinstance(stream, str) or not stream:
            raise LogError(f"stream must be a non-empty string; got {stream!r}.")
        self._url = f"{redact_url(url)}#{stream}"
        if not isinstance(partitions, int) or isinstance(partitions, bool) or partitions < 1:
            raise LogError(
                f"partitions must be an integer of at least 1 for {self._url}; got {partitions!r}."
            )
        if not isinstance(timeout_ms, int) or isinstance(timeout_ms, bool) or timeout_ms < 1:
            raise LogError(
                f"timeout_ms must be a positive number of milliseconds for {self._url}; "
                f"got {timeout_ms!r}."
            )
        self.stream = stream
        self.timeout_ms = timeout_ms
        try:
            self._client = redis.Redis.from_url(
                url,
                socket_connect_timeout=timeout_ms / 1000,
                socket_timeout=timeout_ms / 1000,
                # No automatic retry: a resent XADD whose answer was lost would append twice,
                # and an unreachable server fails within timeout_ms. A pooled connection the
                # server closed is replaced when it is taken from the pool.
                retry=Retry(NoBackoff(), 0),
                decode_responses=False,
            )
        except ValueError:
            raise LogError(
                f"url must be a Redis URL (redis://, rediss:// or unix://); got "
                f"{redact_url(url)!r}."
            ) from None
        meta = f"{stream}:meta"
        try:
            pipe = self._client.pipeline(transaction=True)
            pipe.hsetnx(meta, "partitions", partitions)
            pipe.hget(meta, "partitions")
            stored = pipe.execute()[1]
        except redis.RedisError as exc:
            self._client.close()
            raise self._failure(exc) from None
        if stored is None or not stored.isdigit() or int(stored) < 1:
            self._client.close()
            raise LogError(
                f"The log {self._url} has a bad partition count in {meta!r}: expected a "
                f"positive integer; got {stored!r}."
            )
        self.partitions = int(stored)
        if partitions != 1 and partitions != self.partitions:
            self._client.close()
            raise LogError(
                f"The log {self._url} has {self.partitions} partitions; got partitions="
                f"{partitions} (a log keeps its partition count: keys would move)."
            )

    @property
    def url(self) -> str:
        """The server's URL with any password hidden, then ``#stream``."""
        return self._url

    def key(self, partition: int) -> str:
        """The Redis stream key of ``partition``."""
        return self.stream if self.partitions == 1 else f"{self.stream}:{partition}"

    def produce(
        self,
        values: Iterable[Mapping[str, Any]],
        *,
        key: KeyOf = None,
        timestamp: TimestampOf = None,
    ) -> list[tuple[int, int]]:
        """Append ``values`` in one ``MULTI``/``EXEC``; returns each one's ``(partition, offset)``.

        ``key`` is a field name or a function of the value (None: partition 0); ``timestamp``
        is a field of µs since the epoch or a function returning them (None: now). Every event
        is checked before anything is sent (a bad one appends nothing); the pairs are returned
        once Redis answered.
        """
        now = time.time_ns() // 1000
        pipe = self._client.pipeline(transaction=True)
        parts: list[int] = []
        for i, value in enumerate(values):
            if not isinstance(value, Mapping):
                raise LogError(f"Event {i} must be a JSON object; got {type(value).__name__}.")
            text = key_text(value, key)
            ts = timestamp_of(value, timestamp, now, i)
            try:
                blob = orjson.dumps(dict(value))
            except TypeError as exc:
                raise LogError(f"Event {i} is not JSON: {exc}.") from None
            part = partition_of(text, self.partitions)
            fields: dict[FieldT, EncodableT] = {"t": str(ts), "v": blob}
            if text is not None:
                fields["k"] = text
            pipe.xadd(self.key(part), fields)
            parts.append(part)
        if not parts:
            return []
        try:
            ids = pipe.execute()
        except redis.RedisError as exc:
            raise self._failure(exc) from None
        return [(part, entry_offset(i)) for part, i in zip(parts, ids, strict=True)]

    def read(self, partition: int, offset: int, max_events: int = 10_000) -> list[Event]:
        """Up to ``max_events`` events of ``partition`` with offset ``>= offset``, in order."""
        stream = self.key(partition)
        return [
            self._event(partition, stream, i, fields)
            for i, fields in self._entries(partition, offset, max_events)
        ]

    def read_values(
        self, partition: int, offset: int, max_events: int = 10_000
    ) -> tuple[list[int], list[Any]]:
        """The offsets and values of :meth:`read`'s events (see
        :class:`~cairn.streams.event_log.ValueReader`): the same checks, no :class:`Event`."""
        stream = self.key(partition)
        offsets: list[int] = []
        values: list[Any] = []
        for entry, fields in self._entries(partition, offset, max_events):
            offsets.append(entry_offset(entry))
            values.append(self._fields(stream, entry, fields)[0])
        return offsets, values

    def _entries(
        self, partition: int, offset: int, max_events: int
    ) -> list[tuple[bytes, dict[bytes, bytes]]]:
        self._check_partition(partition)
        if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
            raise LogError(
                f"offset must be a non-negative integer for {self._url}; got {offset!r}."
            )
        if max_events < 1:
            return []
        stream = self.key(partition)
        try:
            return cast(
                "list[tuple[bytes, dict[bytes, bytes]]]",
                self._client.xrange(stream, min=entry_id(offset), count=max_events),
            )
        except redis.RedisError as exc:
            raise self._failure(exc, stream) from None

    def _event(
        self, partition: int, stream: str, entry: bytes, fields: dict[bytes, bytes]
    ) -> Event:
        offset = entry_offset(entry)
        value, key, ts = self._fields(stream, entry, fields)
        return Event(partition, offset, key, ts, offset // _SEQ * 1000, value)

    def _fields(
        self, stream: str, entry: bytes, fields: dict[bytes, bytes]
    ) -> tuple[dict[str, Any], str | None, int]:
        """An entry's value, key and event time; a :class:`LogError` when it is no event."""
        try:
            k = fields.get(b"k")
            value = orjson.loads(fields[b"v"])
            if not isinstance(value, dict):
                raise TypeError(f"v is JSON {type(value).__name__}, not an object")
            return value, None if k is None else k.decode(), int(fields[b"t"])
        except (KeyError, ValueError, TypeError) as exc:
            raise LogError(
                f"Entry {entry.decode()} of {stream!r} in {self._url} is not an event: expected "
                f"the fields t and v (and k), t an integer, v a JSON object; got "
                f"{sorted(f.decode(errors='replace') for f in fields)} ({exc})."
            ) from None

    def end_offsets(self) -> dict[int, int]:
        """Per partition: the offset after the last id Redis gave out (0 for an empty one)."""
        pipe = self._client.pipeline(transaction=False)
        for partition in range(self.partitions):
            pipe.xinfo_stream(self.key(partition))
        try:
            infos = pipe.execute(raise_on_error=False)
        except redis.RedisError as exc:
            raise self._failure(exc) from None
        ends: dict[int, int] = {}
        for partition, info in enumerate(infos):
            if isinstance(info, redis.ResponseError) and str(info) == "no such key":
                ends[partition] = 0
            elif isinstance(info, redis.RedisError):
                raise self._failure(info, self.key(partition))
            else:
                last = entry_offset(info["last-generated-id"])
                ends[partition] = 0 if last == 0 else last + 1
        return ends

    def _check_partition(self, partition: int) -> None:
        if not isinstance(partition, int) or not 0 <= partition < self.partitions:
            raise LogError(
                f"partition must be 0..{self.partitions - 1} for {self._url}; got {partition!r}."
            )

    def _failure(self, exc: redis.RedisError, stream: str | None = None) -> LogError:
        """One :class:`LogError` for a Redis error: the redacted URL and the reason."""
        if isinstance(exc, redis.TimeoutError):
            return LogError(
                f"Cannot reach the event log {self._url}: no answer within {self.timeout_ms} ms."
            )
        if isinstance(exc, redis.AuthenticationError):
            return LogError(
                f"The event log {self._url} refused the credentials: {str(exc).rstrip('.')}."
            )
        if isinstance(exc, redis.ConnectionError):
            return LogError(f"Cannot reach the event log {self._url}: {_reason(exc)}.")
        where = f"the key {stream!r} of " if stream is not None else ""
        reason = str(exc).split(" caused error: ", 1)[-1].rstrip(".")  # not a pipeline's command
        return LogError(f"Redis failed on {where}the event log {self._url}: {reason}.")

    def close(self) -> None:
        """Close the connections."""
        self._client.close()


def _reason(exc: BaseException) -> str:
    """The operating system's reason (``Connection refused``) when there is one."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.strerror:
            return seen.strerror
        seen = seen.__cause__ or seen.__context__
    return str(exc).rstrip(".") or type(exc).__name__
