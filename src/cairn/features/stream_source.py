"""Stream sources: events in a log (embedded, Redis Streams, Kafka), landed in a batch source.

A :class:`~cairn.features.FeatureView` over a stream source is defined exactly as over a file
source. ``cairn stream run`` consumes the log, keeps the view's hop tiles in the online store
current, and appends every processed event to ``batch_source`` with its created time set to
the commit time, so training sets, backfills and the batch engine see exactly what was served.

Events are JSON objects. The event time is the ``timestamp_field`` of each event: an ISO-8601
string with a zone (or naive in ``timezone``), or a number since the epoch in
``timestamp_unit``. ``schema`` types the fields that land in the batch source; fields left out
are typed from the views (numeric aggregations land as float64) or from their first value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from cairn.core.errors import DefinitionError
from cairn.features._names import check_name
from cairn.features.field import Field
from cairn.features.file_source import FileSource

TimestampUnit = Literal["s", "ms", "us"]
_UNITS = ("s", "ms", "us")
CREATED = "created_timestamp"


def default_batch_source(name: str, timestamp_field: str) -> FileSource:
    """Where a stream source's events land when it names no ``batch_source``: the Parquet
    folder ``data/streams/<name>`` with a ``created_timestamp`` column."""
    return FileSource(
        path=f"data/streams/{name}",
        timestamp_field=timestamp_field,
        created_timestamp_column=CREATED,
        name=f"{name}_landed",
        file_format="parquet",
    )


@dataclass(frozen=True)
class _StreamBase:
    """What every stream source has (subclasses add where the log is)."""

    kind: ClassVar[str] = ""
    name: str
    batch_source: FileSource | None = None
    timestamp_field: str | None = None
    timestamp_unit: TimestampUnit = "ms"
    timezone: str | None = None
    schema: Sequence[Field] = ()
    partitions: int | None = None
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)

    def _check(self) -> None:
        owner = f"{type(self).__name__} {self.name!r}"
        check_name(self.name, f"{type(self).__name__}.name")
        batch = self.batch_source
        if batch is None:
            batch = default_batch_source(self.name, self.timestamp_field or "event_timestamp")
        if not isinstance(batch, FileSource):
            raise DefinitionError(
                f"{owner} batch_source must be a FileSource (a Parquet folder or a Delta "
                f"table); got {batch!r}."
            )
        if batch.file_format == "csv" or batch.path.lower().endswith((".csv", ".parquet")):
            raise DefinitionError(
                f"{owner} batch_source must be a Parquet folder or a Delta table "
                f"(appendable); got {batch.path!r}."
            )
        if batch.created_timestamp_column is None:
            raise DefinitionError(
                f"{owner} batch_source {batch.name!r} must declare created_timestamp_column: "
                f"landed events carry the time they were committed, which is what makes the "
                f"batch engine reproduce the served values; got None."
            )
        ts = self.timestamp_field or batch.timestamp_field
        if ts != batch.timestamp_field:
            raise DefinitionError(
                f"{owner} timestamp_field {ts!r} must be the batch_source's timestamp_field; "
                f"got {batch.timestamp_field!r} there."
            )
        if self.timestamp_unit not in _UNITS:
            raise DefinitionError(
                f"{owner} timestamp_unit must be one of {', '.join(_UNITS)}; "
                f"got {self.timestamp_unit!r}."
            )
        if self.partitions is not None and (
            not isinstance(self.partitions, int)
            or isinstance(self.partitions, bool)
            or self.partitions < 1
        ):
            raise DefinitionError(
                f"{owner} partitions must be a positive integer; got {self.partitions!r}."
            )
        schema = tuple(self.schema)
        if not all(isinstance(f, Field) for f in schema):
            raise DefinitionError(f"{owner} schema must be a list of Field; got {self.schema!r}.")
        object.__setattr__(self, "batch_source", batch)
        object.__setattr__(self, "timestamp_field", ts)
        object.__setattr__(self, "schema", schema)
        object.__setattr__(self, "tags", dict(self.tags))

    @property
    def batch(self) -> FileSource:
        """The batch source (always set after construction)."""
        assert self.batch_source is not None
        return self.batch_source

    @property
    def created_timestamp_column(self) -> str | None:
        """The known-at column of the landed events."""
        return self.batch.created_timestamp_column

    @property
    def path(self) -> str:
        """Where the landed events are."""
        return self.batch.path

    def _common_spec(self) -> dict[str, Any]:
        return {
            "type": self.kind,
            "name": self.name,
            "batch_source": self.batch.to_spec(),
            "timestamp_field": self.timestamp_field,
            "timestamp_unit": self.timestamp_unit,
            "timezone": self.timezone,
            "schema": [f.to_spec() for f in self.schema],
            "partitions": self.partitions,
            "description": self.description,
            "tags": dict(sorted(self.tags.items())),
        }

    @staticmethod
    def _common_args(spec: dict[str, Any]) -> dict[str, Any]:
        return {
            "name": spec["name"],
            "batch_source": FileSource.from_spec(spec["batch_source"]),
            "timestamp_field": spec.get("timestamp_field"),
            "timestamp_unit": spec.get("timestamp_unit", "ms"),
            "timezone": spec.get("timezone"),
            "schema": [Field.from_spec(f) for f in spec.get("schema", [])],
            "partitions": spec.get("partitions"),
            "description": spec.get("description", ""),
            "tags": spec.get("tags", {}),
        }


@dataclass(frozen=True)
class LocalStreamSource(_StreamBase):
    """Events in the embedded durable log: one SQLite file (by default
    ``.cairn/streams/<name>.db`` in the project), with partitions, offsets and checkpoints like
    a one-broker Kafka, so a laptop needs no server.

    Example
    -------
    >>> s = LocalStreamSource(name="card_txns", timestamp_field="event_timestamp")
    >>> s.batch.path, s.batch.created_timestamp_column, s.log_path
    ('data/streams/card_txns', 'created_timestamp', '.cairn/streams/card_txns.db')
    """

    kind: ClassVar[str] = "local_stream"
    log_path: str = ""
    """The log file, relative to the project unless absolute."""

    def __post_init__(self) -> None:
        self._check()
        if not self.log_path:
            object.__setattr__(self, "log_path", f".cairn/streams/{self.name}.db")

    def to_spec(self) -> dict[str, Any]:
        """A JSON-ready description of this source."""
        return {**self._common_spec(), "log_path": self.log_path}

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> LocalStreamSource:
        """Rebuild from ``to_spec`` output."""
        return cls(**cls._common_args(spec), log_path=spec.get("log_path", ""))


@dataclass(frozen=True)
class KafkaSource(_StreamBase):
    """Events in a Kafka topic (any Kafka-protocol broker), read with confluent-kafka (the
    ``kafka`` extra). ``value_format`` is ``"json"``.

    Example
    -------
    >>> s = KafkaSource(name="txns", topic="card-txns", bootstrap_servers="broker:9092",
    ...                 timestamp_field="ts")
    >>> s.batch.timestamp_field, s.topic
    ('ts', 'card-txns')
    """

    kind: ClassVar[str] = "kafka"
    topic: str = ""
    bootstrap_servers: str = ""
    value_format: str = "json"

    def __post_init__(self) -> None:
        self._check()
        owner = f"KafkaSource {self.name!r}"
        if not isinstance(self.topic, str) or not self.topic.strip():
            raise DefinitionError(f"{owner} needs topic, a Kafka topic name; got {self.topic!r}.")
        if not isinstance(self.bootstrap_servers, str) or not self.bootstrap_servers.strip():
            raise DefinitionError(
                f"{owner} needs bootstrap_servers (host:port[,host:port]); "
                f"got {self.bootstrap_servers!r}."
            )
        if self.value_format != "json":
            raise DefinitionError(
                f"{owner} value_format must be 'json'; got {self.value_format!r}."
            )

    def to_spec(self) -> dict[str, Any]:
        """A JSON-ready description of this source."""
        return {
            **self._common_spec(),
            "topic": self.topic,
            "bootstrap_servers": self.bootstrap_servers,
            "value_format": self.value_format,
        }

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> KafkaSource:
        """Rebuild from ``to_spec`` output."""
        return cls(
            **cls._common_args(spec),
            topic=spec["topic"],
            bootstrap_servers=spec["bootstrap_servers"],
            value_format=spec.get("value_format", "json"),
        )


@dataclass(frozen=True)
class RedisStreamSource(_StreamBase):
    """Events in a Redis stream (``partitions`` > 1: the streams ``<stream>:<p>``).

    Example
    -------
    >>> s = RedisStreamSource(name="txns", stream="card-txns", url="redis://localhost:6379/0")
    >>> s.stream, s.batch.path
    ('card-txns', 'data/streams/txns')
    """

    kind: ClassVar[str] = "redis_stream"
    stream: str = ""
    url: str = ""

    def __post_init__(self) -> None:
        self._check()
        owner = f"RedisStreamSource {self.name!r}"
        if not isinstance(self.stream, str) or not self.stream.strip():
            raise DefinitionError(f"{owner} needs stream, a Redis key; got {self.stream!r}.")
        if not isinstance(self.url, str) or not self.url.startswith(("redis://", "rediss://")):
            raise DefinitionError(
                f"{owner} url must be a redis:// or rediss:// URL; got {self.url!r}."
            )

    def to_spec(self) -> dict[str, Any]:
        """A JSON-ready description of this source."""
        return {**self._common_spec(), "stream": self.stream, "url": self.url}

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> RedisStreamSource:
        """Rebuild from ``to_spec`` output."""
        return cls(**cls._common_args(spec), stream=spec["stream"], url=spec["url"])


StreamSource = LocalStreamSource | KafkaSource | RedisStreamSource
STREAM_TYPES: dict[str, type[LocalStreamSource] | type[KafkaSource] | type[RedisStreamSource]] = {
    "local_stream": LocalStreamSource,
    "kafka": KafkaSource,
    "redis_stream": RedisStreamSource,
}
