"""The event log of a stream source: the embedded SQLite log, Redis Streams or Kafka."""

from __future__ import annotations

from pathlib import Path

from cairn.features.stream_source import KafkaSource, LocalStreamSource, StreamSource
from cairn.streams.event_log import EventLog


def open_log(source: StreamSource, root: Path) -> EventLog:
    """The log of ``source`` (a relative embedded log path resolves against ``root``)."""
    if isinstance(source, LocalStreamSource):
        from cairn.streams.local_log import LocalLog

        path = Path(source.log_path).expanduser()
        return LocalLog(
            path if path.is_absolute() else root / path, partitions=source.partitions or 1
        )
    if isinstance(source, KafkaSource):
        from cairn.streams.kafka_log import KafkaLog

        return KafkaLog(source.bootstrap_servers, source.topic, partitions=source.partitions)
    from cairn.streams.redis_log import RedisStreamLog

    return RedisStreamLog(source.url, source.stream, partitions=source.partitions or 1)
