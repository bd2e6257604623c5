"""Where each stream source's processor stands: lag, throughput, counts, definition state."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.app.streaming import open_processor, views_of
from cairn.features.source_kinds import is_stream
from cairn.streams.checkpoint import Checkpoint
from cairn.streams.processor import now_us

if TYPE_CHECKING:
    from cairn.app.feature_store import FeatureStore


def stream_status(store: FeatureStore) -> list[dict[str, Any]]:
    """One row per applied stream source read by a view.

    ``lag_events``: events in the log after the checkpoint (Kafka and the embedded log; an
    offset distance for Redis); ``lag_seconds``: how long ago the last batch committed while
    events wait (0 when caught up, None before the first batch); ``version_state``:
    ``current`` when the tiles were built for the views as applied now, ``stale`` when a view
    changed since (the next ``cairn stream run`` rebuilds them), ``none`` before any batch.
    """
    rows: list[dict[str, Any]] = []
    for source in store.list_sources():
        if not is_stream(source) or not views_of(store, source):
            continue
        processor = open_processor(store, source)
        try:
            ck = Checkpoint.from_bytes(processor.store.read_stream_checkpoint(processor.name))
            processor.checkpoint = ck
            lag = sum(processor.lag().values())
        finally:
            processor.log.close()
        if not ck.commit_us:
            lag_s: float | None = None
        else:
            lag_s = 0.0 if lag == 0 else max(0.0, (now_us() - ck.commit_us) / 1e6)
        rate = ck.batch_events / ck.batch_seconds if ck.batch_seconds > 0 else 0.0
        state = (
            "none"
            if not ck.version
            else ("current" if ck.version == processor.version else "stale")
        )
        rows.append(
            {
                "source": source.name,
                "kind": source.kind,
                "log": processor.log.url,
                "views": [v.name for v in processor.views],
                "partitions": processor.log.partitions,
                "offsets": ck.offsets,
                "lag_events": lag,
                "lag_seconds": lag_s,
                "events_per_second": rate,
                "last_commit_us": ck.commit_us or None,
                "held_now": len(ck.held),
                "counts": ck.counts,
                "version_state": state,
            }
        )
    return rows
