"""An :class:`~cairn.streams.event_log.EventLog` on a Kafka topic (any Kafka-protocol broker).

One topic is one log: its partitions are the log's partitions and Kafka's offsets are the log's
offsets: increasing per partition, but not always dense (a transaction's commit or abort
marker takes an offset, compaction removes records, a broker may skip some), so nothing here
counts on them being dense. :meth:`KafkaLog.produce` appends with an idempotent producer
(``enable.idempotence``, ``acks=all``) to the partition :func:`partition_of` gives for the key,
the same placement as the embedded and Redis logs, and returns only after every event of the
call was acknowledged. Values are the events as JSON (orjson); the message timestamp is the
event time in milliseconds and the header ``t`` carries it exactly, in µs; the header ``a`` holds
the producer's clock at the append, the append time of a broker that keeps only create times
(a topic with ``message.timestamp.type=LogAppendTime`` has the broker's own). The logs of one
process share one producer per brokers and config.

:meth:`KafkaLog.read` reads one partition with a consumer that is *assigned* the partition (no
consumer-group membership, no committed offsets: the stream processor keeps its own) and is
kept for the next call when that call continues where the last one stopped, so sequential
reads stream from librdkafka's prefetch instead of seeking each time. A read returns every
event acknowledged before it started (up to ``max_events``), never waiting for later ones.

The end of a partition is taken from the broker's ``ListOffsets`` answer and from the high
watermark a fetch reports. On Kafka these agree; Tansu 0.6 answers ``ListOffsets`` with the
first offset of the partition's last record batch plus one, so the last batch is fetched to
learn its true end.

Every wait on the broker is bounded by ``timeout_s`` (librdkafka would otherwise retry an
unreachable broker forever): past it a call raises :class:`~cairn.streams.event_log.LogError`
naming the bootstrap servers and the topic.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

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
    from confluent_kafka import (
        TIMESTAMP_LOG_APPEND_TIME,
        Consumer,
        KafkaError,
        KafkaException,
        Message,
        Producer,
        TopicPartition,
    )
    from confluent_kafka.admin import AdminClient
    from confluent_kafka.cimpl import NewTopic  # what confluent_kafka.admin re-exports
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise DependencyMissingError(
        "The Kafka event log needs the optional dependency 'confluent-kafka'; "
        "install it with: pip install 'cairn[kafka]'"
    ) from exc

__all__ = ["KafkaLog"]

_C = TypeVar("_C", Consumer, Producer, AdminClient)

_log = logging.getLogger(__name__)

_GROUP_ID = "cairn-kafka-log"
"""Readers are assigned their partition: the group id is never joined and nothing is committed."""
_TIME_HEADER = "t"
"""The event time in µs (the message timestamp holds it in ms only)."""
_APPEND_HEADER = "a"
"""When the producer appended the event, in µs: the append time where the broker keeps none."""
_POLL_S = 0.2
"""The longest single wait on librdkafka, so that every call checks its deadline often."""
_BATCH = 10_000
"""The most messages taken from a consumer at once."""


@dataclass
class _SharedProducer:
    """The idempotent producer of the logs of one process that use the same brokers and settings.

    librdkafka advises one producer per process, and an idempotent producer's first append waits
    about half a second for its producer id: logs share it, the last one closed flushes it.
    """

    producer: Producer | None = None
    users: int = 0
    last_error: str = ""

    def on_error(self, error: KafkaError) -> None:
        """librdkafka's error callback: remember the last one, for messages."""
        self.last_error = str(error.str())


_producers: dict[tuple[str, ...], _SharedProducer] = {}
_producers_lock = threading.Lock()


@dataclass
class _Reader:
    """A consumer assigned one partition: one past the last offset it returned, and where it
    stands after its last end-of-partition event (past offsets holding no message: a
    transaction's commit marker takes an offset, so offsets may skip)."""

    consumer: Consumer
    next_offset: int
    at_end: int = -1


class KafkaLog:
    """An append-only log of JSON events in one Kafka topic.

    Parameters
    ----------
    bootstrap_servers:
        ``host:port[,host:port...]`` of the brokers.
    topic:
        The topic; created when missing (with ``partitions``, or 1, and the broker's default
        replication factor).
    partitions:
        The partition count of a new topic. An existing topic keeps its own: ``None`` takes
        whatever it has, another count than its own is a :class:`LogError` (keys would move).
    config:
        Extra librdkafka properties for every client (``security.protocol``, ``sasl.*``,
        ``client.id``, tuning). The producer's ``enable.idempotence`` and ``acks`` and the
        readers' ``enable.auto.commit`` are the log's own and cannot be changed.
    timeout_s:
        The longest any call waits on the brokers before raising :class:`LogError`.

    Example
    -------
    >>> log = KafkaLog("broker:9092", "card-txns", partitions=4)  # doctest: +SKIP
    >>> log.produce([{"customer_id": 7, "amount": 5.0}], key="customer_id")  # doctest: +SKIP
    [(1, 0)]
    """

    def __init__(
        self,
        bootstrap_servers: str,
        topic: str,
        *,
        partitions: int | None = None,
        config: Mapping[str, str] | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        if not isinstance(bootstrap_servers, str) or not bootstrap_servers.strip():
            raise LogError(
                f"bootstrap_servers must be 'host:port[,...]'; got {bootstrap_servers!r}."
            )
        if not isinstance(topic, str) or not topic.strip():
            raise LogError(f"topic must be a non-empty topic name; got {topic!r}.")
        if partitions is not None and (
            not isinstance(partitions, int) or isinstance(partitions, bool) or partitions < 1
        ):
            raise LogError(
                f"partitions must be None or an integer of at least 1; got {partitions!r}."
            )
        if not isinstance(timeout_s, int | float) or isinstance(timeout_s, bool) or timeout_s <= 0:
            raise LogError(f"timeout_s must be a positive number of seconds; got {timeout_s!r}.")
        self.bootstrap_servers = bootstrap_servers.strip()
        self.topic = topic
        self.timeout_s = float(timeout_s)
        self._config: dict[str, Any] = dict(config or {})
        self._last_error = ""
        self._lock = threading.Lock()  # consumers are used by one thread at a time
        self._producer_key = (
            self.bootstrap_servers,
            repr(self.timeout_s),
            *sorted(f"{k}={v!r}" for k, v in self._config.items()),
        )
        self._shares_producer = False
        self._readers: dict[int, _Reader] = {}
        self._meta: Consumer | None = None
        self.partitions = self._ensure_topic(partitions)

    @property
    def url(self) -> str:
        """``kafka://host:port[,...]/topic``."""
        return redact_url(f"kafka://{self.bootstrap_servers}/{self.topic}")

    # ------------------------------------------------------------------ clients

    def _on_error(self, error: KafkaError) -> None:
        """librdkafka's error callback: remember the last one, for messages."""
        self._last_error = str(error.str())

    def _client_config(
        self, defaults: Mapping[str, Any], forced: Mapping[str, Any]
    ) -> dict[str, Any]:
        return {
            "bootstrap.servers": self.bootstrap_servers,
            "socket.connection.setup.timeout.ms": max(1000, int(self.timeout_s * 1000)),
            "error_cb": self._on_error,
            "logger": _log,
            **defaults,
            **self._config,
            **forced,
        }

    def _client(self, make: Callable[[dict[str, Any]], _C], config: dict[str, Any]) -> _C:
        """A librdkafka client; a :class:`LogError` when ``config`` is not valid."""
        try:
            return make(config)
        except KafkaException as exc:  # its message names the property, never the value
            raise LogError(
                f"The config of the Kafka log {self.url} is not valid: {_kafka_text(exc)}."
            ) from None

    def _consumer(self, fetch_wait_ms: int = 100) -> Consumer:
        return self._client(
            Consumer,
            self._client_config(
                {
                    "group.id": _GROUP_ID,
                    "auto.offset.reset": "error",
                    "enable.partition.eof": True,
                    "fetch.wait.max.ms": fetch_wait_ms,
                    "allow.auto.create.topics": False,
                },
                {"enable.auto.commit": False, "enable.auto.offset.store": False},
            ),
        )

    def _producer_client(self) -> tuple[Producer, _SharedProducer]:
        """The producer this log shares (created on first use, or after one failed)."""
        with _producers_lock:
            shared = _producers.setdefault(self._producer_key, _SharedProducer())
            if not self._shares_producer:
                shared.users += 1
                self._shares_producer = True
            if shared.producer is None:
                ms = max(1000, int(self.timeout_s * 1000))
                config = self._client_config(
                    {"linger.ms": 5, "message.timeout.ms": ms, "allow.auto.create.topics": False},
                    {"enable.idempotence": True, "acks": "all"},
                )
                shared.producer = self._client(Producer, {**config, "error_cb": shared.on_error})
            return shared.producer, shared

    def _drop_producer(self, shared: _SharedProducer, producer: Producer) -> None:
        """Forget a producer that failed: an idempotent producer that lost a message restarts."""
        with _producers_lock:
            if shared.producer is producer:
                shared.producer = None

    def _meta_consumer(self) -> Consumer:
        if self._meta is None:  # fetches only to probe ends: a short wait keeps it responsive
            self._meta = self._consumer(fetch_wait_ms=10)
        return self._meta

    def _failure(self, what: str, detail: object = "") -> LogError:
        reason = str(detail) or self._last_error or f"no answer within {self.timeout_s:g}s"
        return LogError(f"Could not {what} the Kafka log {self.url}: {reason}.")

    # ------------------------------------------------------------------ topic

    def _ensure_topic(self, partitions: int | None) -> int:
        """Create the topic when missing; its partition count."""
        admin = self._client(AdminClient, self._client_config({}, {}))
        deadline = time.monotonic() + self.timeout_s
        existing = self._topic_partitions(admin, deadline)
        if existing is None:
            futures = admin.create_topics(
                [NewTopic(self.topic, partitions or 1, -1)],
                request_timeout=self.timeout_s,
                operation_timeout=self.timeout_s,
            )
            try:
                futures[self.topic].result(timeout=self.timeout_s)
            except KafkaException as exc:
                err = exc.args[0]
                if not (
                    isinstance(err, KafkaError) and err.code() == KafkaError.TOPIC_ALREADY_EXISTS
                ):
                    raise self._failure(
                        "create", err.str() if isinstance(err, KafkaError) else exc
                    ) from None
            except Exception as exc:  # concurrent.futures.TimeoutError and the like
                raise self._failure("create", exc) from None
            while existing is None:  # metadata reaches every broker shortly after creation
                existing = self._topic_partitions(admin, deadline)
                if existing is None:
                    if time.monotonic() >= deadline:
                        raise self._failure("create", "the topic is not visible after creation")
                    time.sleep(0.05)
        if partitions is not None and partitions != existing:
            raise LogError(
                f"The Kafka log {self.url} has {existing} partitions; got partitions={partitions} "
                "(a log keeps its partition count: keys would move)."
            )
        return existing

    def _topic_partitions(self, admin: AdminClient, deadline: float) -> int | None:
        """The topic's partition count, None when it does not exist.

        Lists every topic instead of asking for this one: a broker that creates topics on a
        metadata request for them (Tansu does) would otherwise create it with its defaults.
        """
        try:
            meta = admin.list_topics(timeout=max(0.1, deadline - time.monotonic()))
        except KafkaException as exc:
            raise self._failure("reach", _kafka_text(exc)) from None
        found = meta.topics.get(self.topic)
        if found is None or found.error is not None or not found.partitions:
            return None
        return len(found.partitions)

    # ------------------------------------------------------------------ produce

    def produce(
        self,
        values: Iterable[Mapping[str, Any]],
        *,
        key: KeyOf = None,
        timestamp: TimestampOf = None,
    ) -> list[tuple[int, int]]:
        """Append ``values``; returns each one's ``(partition, offset)`` once all are acknowledged.

        ``key`` is a field name or a function of the value (None: partition 0); ``timestamp``
        is a field of µs since the epoch or a function returning them (None: the produce
        time). A batch some event of which the brokers did not acknowledge within
        ``timeout_s`` is a :class:`LogError`; the others may have been appended.
        """
        now = time.time_ns() // 1000
        messages: list[tuple[int, bytes | None, int, bytes]] = []
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
            messages.append((part, None if text is None else text.encode(), ts, blob))
        if not messages:
            return []
        producer, shared = self._producer_client()
        offsets: dict[int, list[int]] = {}
        errors: list[str] = []

        def delivered(err: KafkaError | None, msg: Message) -> None:
            if err is not None:
                errors.append(str(err.str()))
            else:  # reports come in the order of appends per partition
                offsets.setdefault(int(msg.partition() or 0), []).append(int(msg.offset() or 0))

        def failure(detail: str = "") -> LogError:
            self._drop_producer(shared, producer)
            return self._failure("append to", detail or shared.last_error)

        stamp = str(now).encode()
        deadline = time.monotonic() + 2 * self.timeout_s  # message.timeout.ms fails them first
        for part, k, ts, blob in messages:
            while True:
                try:
                    producer.produce(
                        self.topic,
                        value=blob,
                        key=k,
                        partition=part,
                        timestamp=max(ts // 1000, 0),
                        headers=[(_TIME_HEADER, str(ts).encode()), (_APPEND_HEADER, stamp)],
                        on_delivery=delivered,
                    )
                    break
                except BufferError:  # the local queue is full: let deliveries drain it
                    producer.poll(_POLL_S)
                    if time.monotonic() >= deadline:
                        raise failure() from None
                except KafkaException as exc:
                    raise failure(_kafka_text(exc)) from None
        while producer.flush(_POLL_S) > 0:
            if time.monotonic() >= deadline:
                raise failure()
        acknowledged = sum(map(len, offsets.values()))
        if errors or acknowledged != len(messages):
            raise failure(
                f"{len(messages) - acknowledged} of {len(messages)} events not acknowledged"
                + (f" ({errors[0]})" if errors else "")
            )
        taken = dict.fromkeys(offsets, 0)
        acks = []
        for part, *_ in messages:
            acks.append((part, offsets[part][taken[part]]))
            taken[part] += 1
        return acks

    # ------------------------------------------------------------------ read

    def read(self, partition: int, offset: int, max_events: int = 10_000) -> list[Event]:
        """Up to ``max_events`` events of ``partition`` from ``offset`` on, in offset order.

        Returns every event acknowledged before the call (up to ``max_events``) without
        waiting for later ones; an ``offset`` past the end gives ``[]``, one the broker
        already deleted (retention) a :class:`LogError`.
        """
        self._check_partition(partition)
        if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
            raise LogError(f"offset must be an integer of at least 0; got {offset!r}.")
        if max_events < 1:
            return []
        with self._lock:
            return [_event(msg, partition) for msg in self._read(partition, offset, max_events)]

    def read_values(
        self, partition: int, offset: int, max_events: int = 10_000
    ) -> tuple[list[int], list[Any]]:
        """The offsets and values of :meth:`read`'s events (see
        :class:`~cairn.streams.event_log.ValueReader`): the same checks, no :class:`Event`."""
        self._check_partition(partition)
        if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
            raise LogError(f"offset must be an integer of at least 0; got {offset!r}.")
        if max_events < 1:
            return [], []
        with self._lock:
            messages = self._read(partition, offset, max_events)
        offsets: list[int] = []
        values: list[Any] = []
        loads = orjson.loads
        for msg in messages:  # in _event's order: its first failure is raised
            offsets.append(int(msg.offset() or 0))
            _check_fields(msg)
            values.append(loads(msg.value() or b"{}"))
        return offsets, values

    def _read(self, partition: int, offset: int, max_events: int) -> list[Message]:
        deadline = time.monotonic() + self.timeout_s
        reader = self._readers.get(partition)
        # Not the reader's own client: its ListOffsets would queue behind a fetch in flight.
        low, high = self._listed(self._meta_consumer(), partition)
        if offset < low:
            raise LogError(
                f"Offset {offset} of partition {partition} of the Kafka log {self.url} was "
                f"deleted by the broker (its first stored offset is {low})."
            )
        if reader is None or reader.next_offset != offset:
            if high <= low:
                return []
            # A fresh consumer starts fetching at once, where a seek waits for the fetch in
            # flight. Past the listed end only the last batch may hold more (Tansu): fetch it
            # from its listed start and skip what precedes ``offset``.
            self._drop_reader(partition)
            start = offset if offset < high else high - 1
            reader = self._readers[partition] = _Reader(self._consumer(), start)
            reader.consumer.assign([TopicPartition(self.topic, partition, start)])
        consumer = reader.consumer
        events: list[Message] = []
        while len(events) < max_events:
            wanted = min(max_events - len(events), _BATCH)
            if max(reader.next_offset, reader.at_end) >= high:  # the listed end is reached
                batch = consumer.consume(wanted, 0)
                if not batch:
                    break
            else:
                left = deadline - time.monotonic()
                if left <= 0:
                    self._drop_reader(partition)
                    raise self._failure(f"read partition {partition} of")
                batch = consumer.consume(min(wanted, high - reader.next_offset), min(left, _POLL_S))
                if batch:  # the deadline bounds a wait for the broker, not a long read
                    deadline = time.monotonic() + self.timeout_s
            at_end = False
            for msg in batch:
                err = msg.error()
                if err is not None:
                    if err.code() == KafkaError._PARTITION_EOF:
                        # An end reached before the listed one is old news: more came since.
                        # The end may lie past the last message (a trailing marker): reading
                        # from there again must not wait for a message at the listed end.
                        eof = int(msg.offset() or 0)
                        reader.at_end = max(reader.at_end, eof)
                        at_end = at_end or eof >= high
                        continue
                    self._drop_reader(partition)
                    raise self._failure(f"read partition {partition} of", err.str())
                got = int(msg.offset() or 0)
                reader.next_offset = got + 1
                if got >= offset:
                    events.append(msg)
            if at_end:
                break
        return events

    def _drop_reader(self, partition: int) -> None:
        reader = self._readers.pop(partition, None)
        if reader is not None:
            reader.consumer.close()

    def _listed(self, consumer: Consumer, partition: int) -> tuple[int, int]:
        """The partition's first offset and the end the broker lists (``ListOffsets``)."""
        try:
            low, high = consumer.get_watermark_offsets(
                TopicPartition(self.topic, partition), timeout=self.timeout_s, cached=False
            )
        except KafkaException as exc:
            raise self._failure(
                f"read the offsets of partition {partition} of", _kafka_text(exc)
            ) from None
        return int(low), int(high)

    def end_offsets(self) -> dict[int, int]:
        """Per partition: the offset the next event will get (0 for an empty partition)."""
        with self._lock:
            meta = self._meta_consumer()
            listed = {p: self._listed(meta, p) for p in range(self.partitions)}
            ends = {p: high for p, (_, high) in listed.items()}
            probe = [
                TopicPartition(self.topic, p, high - 1)
                for p, (low, high) in listed.items()
                if high > low
            ]
            if not probe:
                return ends
            # The fetch of the last listed offset reports the partition's high watermark.
            meta.assign(probe)
            try:
                pending, deadline = (
                    {tp.partition for tp in probe},
                    time.monotonic() + self.timeout_s,
                )
                while pending:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise self._failure("read the end offsets of")
                    for msg in meta.consume(len(probe), min(left, _POLL_S)):
                        err = msg.error()
                        if err is not None and err.code() != KafkaError._PARTITION_EOF:
                            raise self._failure("read the end offsets of", err.str())
                        pending.discard(int(msg.partition() or 0))
                for tp in probe:
                    _, high = meta.get_watermark_offsets(tp, cached=True)
                    ends[tp.partition] = max(ends[tp.partition], int(high))
            finally:
                meta.unassign()
            return ends

    def _check_partition(self, partition: int) -> None:
        if (
            not isinstance(partition, int)
            or isinstance(partition, bool)
            or not 0 <= partition < self.partitions
        ):
            raise LogError(
                f"partition must be 0..{self.partitions - 1} for {self.url}; got {partition!r}."
            )

    def close(self) -> None:
        """Close the readers; the last log of its producer flushes it (within ``timeout_s``)."""
        with self._lock:
            for reader in self._readers.values():
                reader.consumer.close()
            self._readers.clear()
            if self._meta is not None:
                self._meta.close()
                self._meta = None
            producer = None
            if self._shares_producer:
                with _producers_lock:
                    shared = _producers[self._producer_key]
                    shared.users -= 1
                    if shared.users == 0:
                        producer = _producers.pop(self._producer_key).producer
                self._shares_producer = False
        if producer is not None:
            producer.flush(self.timeout_s)


def _kafka_text(exc: KafkaException) -> str:
    err = exc.args[0] if exc.args else None
    return str(err.str()) if isinstance(err, KafkaError) else str(exc)


def _check_fields(msg: Message) -> None:
    """Raise where :func:`_event` would before it decodes the value: a key that is not
    UTF-8, a time header that is not an integer."""
    raw_key = msg.key()
    if raw_key is not None:
        bytes(raw_key).decode()
    headers = msg.headers()
    if not headers:
        return
    found = dict(headers.items() if isinstance(headers, dict) else headers)
    ts, appended = found.get(_TIME_HEADER), found.get(_APPEND_HEADER)
    if ts is not None:
        int(ts)
    if appended is not None and msg.timestamp()[0] != TIMESTAMP_LOG_APPEND_TIME:
        int(appended)


def _event(msg: Message, partition: int) -> Event:
    """One consumed message as an :class:`Event`.

    The event time is the ``t`` header, else the message timestamp; the append time is the
    broker's (a topic with ``message.timestamp.type=LogAppendTime``), else the ``a`` header,
    else the message timestamp: the same event reads back equal every time.
    """
    kind, ms = msg.timestamp()
    headers = msg.headers() or ()
    found = dict(headers.items() if isinstance(headers, dict) else headers)
    ts, appended = found.get(_TIME_HEADER), found.get(_APPEND_HEADER)
    raw_key, raw_value = msg.key(), msg.value()
    return Event(
        partition=partition,
        offset=int(msg.offset() or 0),
        key=None if raw_key is None else bytes(raw_key).decode(),
        timestamp_us=int(ms) * 1000 if ts is None else int(ts),
        appended_us=(
            int(ms) * 1000
            if kind == TIMESTAMP_LOG_APPEND_TIME or appended is None
            else int(appended)
        ),
        value=orjson.loads(raw_value or b"{}"),
    )
