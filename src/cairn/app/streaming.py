"""Streaming for a project: the processors of its stream sources.

(``FeatureStore.produce`` and ``cairn stream produce`` append rows to any stream source.)
:func:`open_processor` builds the processor of one
source over the applied views that read it; :func:`run_processor` runs it as the only active
one (a lock: PostgreSQL advisory lock, or a file lock next to an embedded metadata database;
a second processor waits and takes over when the first dies).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from cairn.core.errors import DefinitionError
from cairn.features.source import is_stream
from cairn.features.stream_source import StreamSource
from cairn.metadata.run_lock import run_lock
from cairn.streams.event_log import EventLog
from cairn.streams.logs import open_log
from cairn.streams.processor import BatchResult, ProcessorSettings, StreamProcessor, now_us

if TYPE_CHECKING:
    from cairn.app.feature_store import FeatureStore


def open_processor(
    store: FeatureStore,
    source: str | StreamSource,
    *,
    settings: ProcessorSettings | None = None,
    clock: Callable[[], int] = now_us,
    log: EventLog | None = None,
) -> StreamProcessor:
    """The processor of one stream source over the applied views reading it."""
    src = store.stream_source(source)
    views = store.stream_views(src)
    if not views:
        raise DefinitionError(
            f"No feature view reads the stream source {src.name!r}; apply one first."
        )
    return StreamProcessor(
        src,
        [(a.view, a.definition_hash) for a in views.values()],
        log or open_log(src, store.root),
        store.online.store,
        store.root,
        namespace=store.project,
        settings=settings,
        clock=clock,
        dead_letter=store.root / ".cairn" / "streams" / f"{src.name}.dead.jsonl",
    )


def run_processor(
    store: FeatureStore,
    source: str | StreamSource,
    stop: threading.Event,
    *,
    settings: ProcessorSettings | None = None,
    poll_s: float = 0.2,
    on_batch: Callable[[BatchResult], None] | None = None,
    until_idle: bool = False,
    refresh_s: float = 10.0,
) -> StreamProcessor:
    """Run the processor of ``source`` until ``stop`` is set (or, with ``until_idle``, until a
    batch finds nothing to do), holding the source's processor lock.

    Every ``refresh_s`` seconds it re-reads the applied definitions: when a view over the
    source changed (or one was added), its tiles are rebuilt from the landed events and the
    stream continues with the new definitions, without a restart.
    """
    processor = open_processor(store, source, settings=settings)
    name = f"stream:{store.project}:{processor.source.name}"
    with run_lock(store.metadata.engine, name, stop=stop) as held:
        if not held:  # stopped while waiting for the active processor's lock
            return processor
        _begin(store, processor)
        checked = time.monotonic()
        while not stop.is_set():
            if time.monotonic() - checked >= refresh_s:
                checked = time.monotonic()
                processor = _refreshed(store, processor, settings)
            result = processor.step()
            if on_batch is not None and (result.events or result.released):
                on_batch(result)
            if result.events == 0 and result.released == 0:
                if until_idle:  # the log is drained (held events stay held, in the checkpoint)
                    break
                stop.wait(poll_s)
    return processor


def _begin(store: FeatureStore, processor: StreamProcessor) -> None:
    """Start ``processor``; rebuild its tiles when they were built for other definitions."""
    checkpoint = processor.start()
    if checkpoint.version != processor.version and (
        checkpoint.version or store.has_data(processor.source)
    ):
        rebuild_tiles(store, processor)


def _refreshed(
    store: FeatureStore, processor: StreamProcessor, settings: ProcessorSettings | None
) -> StreamProcessor:
    """The processor for the definitions applied now (the same one when nothing changed)."""
    store.refresh()
    fresh = open_processor(store, processor.source.name, settings=settings, log=processor.log)
    if fresh.version == processor.version:
        return processor
    _begin(store, fresh)
    return fresh


def rebuild_tiles(store: FeatureStore, processor: StreamProcessor) -> None:
    """Recompute the tiles of a source's views from its batch source, and record the views'
    definitions in the checkpoint; the stream then continues from its offsets.

    Run when a view's definition changed since the tiles were built (up to the last commit:
    exactly the landed events), and at the first start over a batch source that already
    holds history (up to now: the history is known, the log holds what comes next).
    """
    from cairn.online.materialize import Materializer, Range

    ck = processor.checkpoint
    if not ck.commit_us:
        ck = ck.advanced(commit_us=processor.clock())
    runner = Materializer(store.settings.offline, store.root, store.online.store, store.project)
    if store.has_data(processor.source):
        for view in processor.views:  # overwrite tile by tile: reads never go dark meanwhile
            runner.run(view, Range(end=ck.commit_us))
    processor.checkpoint = ck.advanced(version=processor.version)
    processor.store.commit_stream(processor.name, [], processor.checkpoint.to_bytes())


def stream_sources(store: FeatureStore, names: Sequence[str] = ()) -> list[StreamSource]:
    """The applied stream sources read by a view (``names``: only the views listed)."""
    views = store.applied_views()
    unknown = [n for n in names if n not in views]
    if unknown:
        raise KeyError(f"No feature view {unknown[0]!r}; applied views: {', '.join(views)}.")
    chosen = [views[n] for n in names] if names else list(views.values())
    out: dict[str, StreamSource] = {}
    for a in chosen:
        src = a.view.source
        if is_stream(src):
            out[src.name] = src
        elif names:
            raise DefinitionError(
                f"Feature view {a.view.name!r} reads {src.name!r}, which is not a stream "
                f"source; `cairn stream run` takes views over stream sources."
            )
    return list(out.values())
