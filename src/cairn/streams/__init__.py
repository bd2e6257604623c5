"""Event streams: the logs that streaming feature views consume (issue 18).

:class:`~cairn.streams.local_log.LocalLog` is the embedded durable log for a laptop: a SQLite
file with partitions, dense offsets and consumer-group checkpoints, like a one-broker Kafka, so a
stream needs no server.
"""

from __future__ import annotations

from cairn.streams.event_log import Event, EventLog, LogError, partition_of
from cairn.streams.local_log import LocalLog

__all__ = ["Event", "EventLog", "LocalLog", "LogError", "partition_of"]
