"""Where each stream source's processor stands: lag, throughput, counts, definition state.

:func:`stream_status` answers once (``cairn stream status``); :class:`StreamWatch` keeps the
logs open and answers at most every ``min_interval`` seconds from a cache, for ``cairn serve``'s
``/metrics`` and ``/readyz`` (a Kafka log is not opened per scrape).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cairn.app.stream_backfill import NEXT
from cairn.app.streaming import open_processor
from cairn.core.errors import CairnError
from cairn.features.source import is_stream
from cairn.streams.checkpoint import Checkpoint
from cairn.streams.processor import (
    Instance,
    StreamProcessor,
    now_us,
    owned_partitions,
    processor_checkpoints,
)

if TYPE_CHECKING:
    from cairn.app.feature_store import FeatureStore


class StreamLagging(CairnError):
    """A stream source whose events wait longer than the readiness limit."""


class StreamWatch:
    """The status of every stream source of a project, from logs kept open."""

    def __init__(
        self,
        store: FeatureStore,
        *,
        min_interval: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.min_interval = min_interval
        self.clock = clock
        self._processors: dict[str, StreamProcessor] = {}
        self._cached: tuple[float, list[dict[str, Any]]] | None = None
        self._lock = threading.Lock()

    def status(self) -> list[dict[str, Any]]:
        """One row per applied stream source read by a view (see :func:`stream_status`)."""
        with self._lock:
            now = self.clock()
            if self._cached is not None and now - self._cached[0] < self.min_interval:
                return self._cached[1]
            rows = [_row(p) for p in self._current()]
            self._cached = (now, rows)
            return rows

    def check_ready(self, max_lag_seconds: float) -> None:
        """Raise :class:`StreamLagging` when a source's events wait longer than the limit
        (0: never), or wait for a processor that never committed."""
        if max_lag_seconds <= 0:
            return
        for row in self.status():
            lag = row["lag_seconds"]
            if row["lag_events"] and (lag is None or lag > max_lag_seconds):
                behind = "no processor has committed" if lag is None else f"{lag:.0f} s behind"
                raise StreamLagging(
                    f"stream {row['source']!r} has {row['lag_events']:,} events waiting and "
                    f"{behind} (streaming.max_lag_seconds = {max_lag_seconds:g}); is "
                    f"`cairn stream run` running?"
                )

    def close(self) -> None:
        """Close the logs."""
        with self._lock:
            for p in self._processors.values():
                p.log.close()
            self._processors.clear()

    def _current(self) -> list[StreamProcessor]:
        wanted = [
            s.name for s in self.store.list_sources() if is_stream(s) and self.store.stream_views(s)
        ]
        for name in list(self._processors):
            if name not in wanted:
                self._processors.pop(name).log.close()
        out = []
        for name in wanted:
            p = self._processors.get(name)
            fresh = open_processor(self.store, name, log=p.log if p else None)
            self._processors[name] = fresh
            out.append(fresh)
        return out


def stream_status(store: FeatureStore) -> list[dict[str, Any]]:
    """One row per applied stream source read by a view.

    ``lag_events``: events in the log after the checkpoint (Kafka and the embedded log; an
    offset distance for Redis); ``lag_seconds``: how long ago the last batch committed while
    events wait (0 when caught up, None before the first batch); ``version_state``:
    ``current`` when the live tiles are those of the views as applied now; ``backfilling``
    when a view changed and its new definition is being built beside the live one
    (``backfill_lag_events``: events it still has to take; reads switch to it once it has
    caught up); ``stale`` when a view changed and no processor has started its backfill yet;
    ``none`` before any batch. ``view_versions``: per view, the applied definition hash and
    the live one(s) serving reads (12 characters); ``processors``: each processor's own
    figures when several share the source.
    """
    watch = StreamWatch(store, min_interval=0)
    try:
        return watch.status()
    finally:
        watch.close()


def _row(processor: StreamProcessor) -> dict[str, Any]:
    """The status of a source: one processor's, or the sum over the processors sharing it
    (``processors`` lists each one's own figures)."""
    count = processor.instance[1]
    ends = processor.log.end_offsets()
    names = (processor.store, processor.name_space, processor.source.name, count)
    parts = [
        _instance(processor, (i, count), ends, ck, record)
        for i, (ck, record) in enumerate(
            zip(processor_checkpoints(*names), processor_checkpoints(*names, NEXT), strict=True)
        )
    ]
    offsets = {p: o for part in parts for p, o in part["offsets"].items()}
    lags = [x["lag_seconds"] for x in parts if x["lag_events"]]
    counts: dict[str, int] = {}
    for part in parts:
        for name, n in part["counts"].items():
            counts[name] = counts.get(name, 0) + n
    states = {x["version_state"] for x in parts}
    order = ("none", "stale", "backfilling", "current")  # the least advanced one shows
    behind = [x["backfill_lag_events"] for x in parts if x["backfill_lag_events"] is not None]
    commits = [x["last_commit_us"] for x in parts if x["last_commit_us"]]
    source = processor.source
    return {
        "source": source.name,
        "kind": source.kind,
        "log": processor.log.url,
        "views": [v.name for v in processor.views],
        "partitions": processor.log.partitions,
        "offsets": dict(sorted(offsets.items())),
        "lag_events": sum(x["lag_events"] for x in parts),
        "lag_seconds": (
            None if any(s is None for s in lags) else max(lags, default=0.0 if commits else None)
        ),
        "events_per_second": sum(x["events_per_second"] for x in parts),
        "last_batch_seconds": max(x["last_batch_seconds"] for x in parts),
        "last_commit_us": min(commits) if len(commits) == count else None,
        "held_now": sum(x["held_now"] for x in parts),
        "counts": counts,
        "version_state": next(s for s in order if s in states),
        "backfill_lag_events": max(behind) if behind else None,
        "view_versions": {
            view: {
                "applied": h[:12],
                "live": sorted({x["live"][view] for x in parts if view in x["live"]}),
            }
            for view, h in sorted(processor.hashes.items())
        },
        "processors": parts,
    }


def _instance(
    processor: StreamProcessor,
    instance: Instance,
    ends: dict[int, int],
    ck: Checkpoint,
    record: Checkpoint,
) -> dict[str, Any]:
    """One processor's checkpoint (and backfill record) against the log's end (its own
    partitions)."""
    owned = owned_partitions(processor.log.partitions, instance)
    lag = sum(max(0, ends.get(p, 0) - ck.offsets.get(p, 0)) for p in owned)
    if not ck.commit_us:
        lag_s: float | None = None
    else:
        lag_s = 0.0 if lag == 0 else max(0.0, (now_us() - ck.commit_us) / 1e6)
    rate = ck.batch_events / ck.batch_seconds if ck.batch_seconds > 0 else 0.0
    state = (
        "none" if not ck.version else ("current" if ck.version == processor.version else "stale")
    )
    backfill_lag: int | None = None
    if state == "stale" and record.version == processor.version:
        state = "backfilling"
        if record.commit_us:  # None until its first pass ends
            backfill_lag = sum(ck.offsets.values()) - sum(record.offsets.values())
    return {
        "instance": f"{instance[0]}/{instance[1]}",
        "partitions": owned,
        "offsets": {p: ck.offsets.get(p, 0) for p in owned},
        "lag_events": lag,
        "lag_seconds": lag_s,
        "events_per_second": rate,
        "last_batch_seconds": ck.batch_seconds,
        "last_commit_us": ck.commit_us or None,
        "held_now": len(ck.held),
        "counts": ck.counts,
        "version_state": state,
        "backfill_lag_events": backfill_lag,
        "live": {view: h[:12] for view, h in ck.view_hashes().items()},
    }
