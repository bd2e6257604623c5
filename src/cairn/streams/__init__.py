"""Event streams: the logs that streaming feature views consume (issue 18).

:class:`~cairn.streams.local_log.LocalLog` is the embedded durable log for a laptop: a SQLite
file with partitions, dense offsets and consumer-group checkpoints, like a one-broker Kafka, so a
stream needs no server.
"""

from __future__ import annotations

from cairn.streams.local_log import Event, LocalLog, LogError

__all__ = ["Event", "LocalLog", "LogError"]
