"""Sources: where raw feature rows come from — files, pushed rows, and event streams.

Each kind knows its batch form (:func:`batch_of`): the files the offline engine, quality suites
and materialization read. A push source's and a stream source's batch form is the log their
rows land in.
"""

from __future__ import annotations

from typing import Any, TypeGuard

from cairn.features.file_source import FileSource, PushSource
from cairn.features.stream_source import (
    STREAM_TYPES,
    KafkaSource,
    LocalStreamSource,
    RedisStreamSource,
    StreamSource,
)

Source = FileSource | PushSource | LocalStreamSource | KafkaSource | RedisStreamSource
SOURCE_TYPES = (FileSource, PushSource, LocalStreamSource, KafkaSource, RedisStreamSource)

__all__ = [
    "SOURCE_TYPES",
    "FileSource",
    "KafkaSource",
    "LocalStreamSource",
    "PushSource",
    "RedisStreamSource",
    "Source",
    "StreamSource",
    "batch_of",
    "is_stream",
    "source_from_spec",
]


def source_from_spec(spec: dict[str, Any]) -> Source:
    """Rebuild any source from its ``to_spec`` output."""
    kind = spec.get("type")
    if kind == "push":
        return PushSource.from_spec(spec)
    if kind in STREAM_TYPES:
        return STREAM_TYPES[kind].from_spec(spec)
    return FileSource.from_spec(spec)


def is_stream(source: object) -> TypeGuard[StreamSource]:
    """Whether ``source`` is an event stream (its views are kept current by a processor)."""
    return isinstance(source, (LocalStreamSource, KafkaSource, RedisStreamSource))


def batch_of(source: Source) -> FileSource:
    """The files holding a source's rows (a push or stream source's landed log)."""
    if isinstance(source, PushSource):
        return source.batch_source
    if is_stream(source):
        return source.batch
    assert isinstance(source, FileSource)
    return source
