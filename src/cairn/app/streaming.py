"""Streaming for a project: the processors of its stream sources.

(``FeatureStore.produce`` and ``cairn stream produce`` append rows to any stream source.)
:func:`open_processor` builds the processor of one source over the applied views that read
it; :func:`run_processor` runs it holding the lock of every partition it reads (PostgreSQL
advisory locks, or file locks next to an embedded metadata database), so no partition is
read by two processors: a second one waits and takes over when the first dies. A processor
whose PostgreSQL lock died with its connection while it lives (server restart, network cut)
notices before its next batch (:data:`LOCK_CHECK_S`): it stops, says so, and waits for its
partitions again, as a standby, from the last checkpoint. With
``streaming.processors = N``, N processors share the partitions (partition ``p`` belongs to
processor ``p % N``) and :func:`run_any_instance` takes the first free one, like a consumer
joining a group. :class:`SourceRunner` moves a processor to changed definitions without a
pause in serving (backfill beside, then switch; with several processors, together).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING

from cairn.app.stream_backfill import NEXT, Backfill
from cairn.app.stream_versions import definition_at
from cairn.core.errors import DefinitionError, StreamFencedError
from cairn.core.online import StreamFence
from cairn.features.source import is_stream
from cairn.features.stream_source import StreamSource
from cairn.metadata.run_lock import Hold, hold_lock
from cairn.metadata.singleton import RETRY_S
from cairn.offline import AppliedView
from cairn.online.materialize import (
    KeyPartitions,
    Materializer,
    Range,
    storage_name,
    versioned_storage,
)
from cairn.streams.checkpoint import Checkpoint, version_of
from cairn.streams.event_log import EventLog
from cairn.streams.fence import partition_fence
from cairn.streams.logs import open_log
from cairn.streams.processor import (
    BatchResult,
    Instance,
    ProcessorSettings,
    StreamProcessor,
    landing_tag,
    now_us,
    processor_checkpoints,
)

if TYPE_CHECKING:
    from cairn.app.feature_store import FeatureStore

logger = logging.getLogger(__name__)

LOCK_CHECK_S = 0.2
"""Seconds between a running processor's checks that it still holds its partition locks."""


class LockLost(Exception):
    """A running processor's partition lock ended with its database connection."""


def open_processor(
    store: FeatureStore,
    source: str | StreamSource,
    *,
    settings: ProcessorSettings | None = None,
    clock: Callable[[], int] = now_us,
    log: EventLog | None = None,
    views: Mapping[str, AppliedView] | None = None,
    instance: Instance | None = None,
    fence: StreamFence | None = None,
) -> StreamProcessor:
    """The processor of one stream source over the applied views reading it (or over
    ``views``: definitions of them, e.g. the live ones while a change is backfilled), as
    processor ``instance`` (default: the first of ``streaming.processors``), its commits
    carrying ``fence`` (one its caller claimed, see :mod:`cairn.streams.fence`)."""
    src = store.stream_source(source)
    instance = instance or (0, store.settings.streaming.processors)
    dead = src.name if instance[1] == 1 else landing_tag(src.name, instance)
    views = store.stream_views(src) if views is None else views
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
        dead_letter=store.root / ".cairn" / "streams" / f"{dead}.dead.jsonl",
        instance=instance,
        fence=fence,
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
    refresh_s: float | None = None,
    switch_lag_events: int | None = None,
    instance: Instance | None = None,
) -> StreamProcessor:
    """Run the processor of ``source`` until ``stop`` is set (or, with ``until_idle``, until a
    batch finds nothing to do), holding the source's processor lock (with several
    ``streaming.processors``, processor ``instance``'s; :func:`run_any_instance` takes
    whichever is free).

    Every ``refresh_s`` seconds (default ``streaming.refresh_seconds``) it re-reads the
    applied definitions: when a view over the
    source changed (or one was added), the new definition is backfilled beside the live one
    while the stream goes on, and becomes live once fewer than ``switch_lag_events`` events
    (default ``streaming.switch_lag_events``) separate it from the stream
    (:mod:`cairn.app.stream_backfill`); reads use the live definition until then. With
    ``until_idle`` a backfill under way is finished before returning.
    """
    while True:
        processor = open_processor(store, source, settings=settings, instance=instance)
        with partition_locks(store, processor, stop) as holds:
            if holds is None:  # stopped while waiting for the active processor's lock
                return processor
            try:
                return _run_held(
                    store, processor, stop, settings, poll_s, on_batch, until_idle, refresh_s,
                    switch_lag_events, holds,
                )  # fmt: skip
            except LockLost:
                processor.log.close()  # back to waiting, from the last checkpoint
        stop.wait(RETRY_S)  # a standby takes the partitions first


def run_any_instance(
    store: FeatureStore,
    source: str | StreamSource,
    stop: threading.Event,
    *,
    settings: ProcessorSettings | None = None,
    poll_s: float = 0.2,
    on_batch: Callable[[BatchResult], None] | None = None,
    until_idle: bool = False,
    refresh_s: float | None = None,
    switch_lag_events: int | None = None,
    standby_poll_s: float = 0.5,
) -> StreamProcessor | None:
    """Run the first free processor of ``source``'s ``streaming.processors`` (like a consumer
    joining a group): each is tried once; when all are taken, wait as a standby and take the
    first one whose process dies (within ``standby_poll_s``). None when stopped first."""
    src = store.stream_source(source)
    count = store.settings.streaming.processors
    if count == 1:  # one processor: wait on its lock (woken as soon as it is free)
        return run_processor(
            store, src, stop, settings=settings, poll_s=poll_s, on_batch=on_batch,
            until_idle=until_idle, refresh_s=refresh_s, switch_lag_events=switch_lag_events,
        )  # fmt: skip
    once = threading.Event()
    once.set()  # each lock is tried once
    log = open_log(src, store.root)  # one connection for every try
    while not stop.is_set():
        for i in range(count):
            processor = open_processor(store, src, settings=settings, log=log, instance=(i, count))
            with partition_locks(store, processor, once) as holds:
                if holds is not None:
                    try:
                        return _run_held(
                            store, processor, stop, settings, poll_s, on_batch, until_idle,
                            refresh_s, switch_lag_events, holds,
                        )  # fmt: skip
                    except LockLost:
                        pass  # a standby again, from the last checkpoint
        stop.wait(standby_poll_s)
    log.close()
    return None


def partition_lock(project: str, source: str, partition: int) -> str:
    """The lock of one partition of a stream source, held by the processor reading it.

    Example
    -------
    >>> partition_lock("credit", "txns", 3)
    'stream:credit:txns:3'
    """
    return f"stream:{project}:{source}:{partition}"


@contextmanager
def partition_locks(
    store: FeatureStore, processor: StreamProcessor, stop: threading.Event
) -> Iterator[list[Hold] | None]:
    """Hold the locks of every partition ``processor`` reads (in order; a processor of
    another number of processors reading one of them excludes it, so no partition is ever
    read by two). Yields them, or None, holding none, when ``stop`` was set first."""
    with ExitStack() as stack:
        holds = []
        for p in processor.owned:
            name = partition_lock(store.project, processor.source.name, p)
            hold = stack.enter_context(hold_lock(store.metadata.engine, name, stop=stop))
            if not hold.held:
                yield None
                return
            holds.append(hold)
        yield holds


def _run_held(
    store: FeatureStore,
    processor: StreamProcessor,
    stop: threading.Event,
    settings: ProcessorSettings | None,
    poll_s: float,
    on_batch: Callable[[BatchResult], None] | None,
    until_idle: bool,
    refresh_s: float | None,
    switch_lag_events: int | None,
    holds: Sequence[Hold] = (),
) -> StreamProcessor:
    """The processing loop of :func:`run_processor`, its locks ``holds`` held: raises
    :class:`LockLost` when a check (every :data:`LOCK_CHECK_S`, before a batch) finds one
    gone."""
    configured = store.settings.streaming
    every = configured.refresh_seconds if refresh_s is None else refresh_s
    lag = configured.switch_lag_events if switch_lag_events is None else switch_lag_events
    # Claimed before the checkpoint is read: a processor that lost these partitions can no
    # longer commit a batch it had in flight (cairn.streams.fence).
    processor.claim(partition_fence(store.project, processor.source.name, processor.owned))
    runner = SourceRunner(store, processor, settings, lag)
    runner.begin()
    checked = held = time.monotonic()
    while not stop.is_set():
        if time.monotonic() - held >= LOCK_CHECK_S:
            held = time.monotonic()
            if not all(h.alive() for h in holds):
                logger.warning(
                    "Lost leadership of %s's partitions %s: a partition lock ended with its "
                    "database connection; stopped, standing by.",
                    processor.source.name, list(processor.owned),
                )  # fmt: skip
                raise LockLost(processor.source.name)
        if time.monotonic() - checked >= every:
            checked = time.monotonic()
            runner.refresh()
        try:
            result = runner.live.step()
        except StreamFencedError:
            logger.warning(
                "Lost leadership of %s's partitions %s: another processor claimed them; the "
                "batch in flight was not committed; stopped, standing by.",
                processor.source.name, list(processor.owned),
            )  # fmt: skip
            raise LockLost(processor.source.name) from None
        if on_batch is not None and (result.events or result.released):
            on_batch(result)
        idle = result.events == 0 and result.released == 0
        runner.advance(switch_now=idle and until_idle)
        if idle:
            if until_idle:  # the log is drained (held events stay held, in the checkpoint)
                break
            stop.wait(poll_s)
    return runner.live


class SourceRunner:
    """The live processor of one source and, while a changed definition is built, its
    backfill; :meth:`advance` switches from one to the other when the backfill caught up."""

    retire_after_s = 5.0
    """Seconds a retired storage stays after the switch (reads planned on it finish)."""

    def __init__(
        self,
        store: FeatureStore,
        processor: StreamProcessor,
        settings: ProcessorSettings | None,
        switch_lag_events: int,
    ) -> None:
        self.store = store
        self.live = processor
        self.settings = settings
        self.switch_lag_events = switch_lag_events
        self.backfill: Backfill | None = None
        self._switched = -float("inf")

    def begin(self) -> None:
        """Start: serve the live definitions of the checkpoint and backfill the applied ones
        when they differ (a first start over history, or tiles of an older layout, are
        built before the first batch: there is nothing to serve meanwhile)."""
        applied = self.live
        checkpoint = applied.start()
        hashes = checkpoint.view_hashes() if checkpoint.layout >= 2 else {}
        if checkpoint.layout < 2:
            for view in checkpoint.view_hashes():
                self.store.online.store.delete_view(storage_name(self.store.project, view))
        if not hashes:
            if checkpoint.commit_us or self.store.has_data(applied.source):
                rebuild_tiles(self.store, applied)
            return
        if checkpoint.version == applied.version:
            return
        views = {
            n: definition_at(self.store.metadata, self.store.project, n, h)
            for n, h in hashes.items()
        }
        known = {n: a for n, a in views.items() if a is not None}
        if len(known) < len(views):  # a live definition is gone: rebuild before serving
            rebuild_tiles(self.store, applied)
            return
        self.live = open_processor(
            self.store,
            applied.source,
            settings=self.settings,
            log=applied.log,
            views=known,
            instance=applied.instance,
            fence=applied.fence,
        )
        self.live.start()
        self.backfill = Backfill(self.store, self.live, self.store.stream_views(applied.source))

    def refresh(self) -> None:
        """Re-read the applied definitions; start (or restart) a backfill when they differ
        from the live ones, and delete retired storages."""
        self._retire()
        self.store.refresh()
        target = self.store.stream_views(self.live.source)
        version = version_of((n, a.definition_hash) for n, a in target.items())
        if self.backfill is not None:
            if self.backfill.version == version:
                return
            self.backfill.wait()  # a new backfill drops what this one built (its record says)
            abandoned, self.backfill = self.backfill, None
            if version == self.live.version:  # changed back: nothing to build
                abandoned.abandon(set(self.live.hashes.items()))
                return
        if version != self.live.version and target:
            self.backfill = Backfill(self.store, self.live, target)

    def advance(self, *, switch_now: bool = False) -> None:
        """After a batch: let the backfill catch up, and switch once it is close enough."""
        backfill = self.backfill
        if backfill is None:
            return
        lag = backfill.lag(self.live.checkpoint)
        if lag is not None and lag <= self.switch_lag_events:
            backfill.mark_ready()
        if switch_now or (backfill.ready and self._all_ready(backfill)):
            self._switch(backfill)
        else:
            backfill.advance(self.live.checkpoint)

    def _records(self, suffix: str = "") -> list[Checkpoint]:
        """The checkpoints (or, with ``#next``, the backfill records) of every processor
        sharing this source."""
        live = self.live
        return processor_checkpoints(
            live.store, self.store.project, live.source.name, live.instance[1], suffix
        )

    def _all_ready(self, backfill: Backfill) -> bool:
        """Whether every processor of the source has caught its backfill up: with several,
        they switch together (within a batch of each other) so reads move at once."""
        if self.live.instance[1] == 1:
            return True
        return all(
            live.version == backfill.version  # switched already
            or (record.version == backfill.version and record.count("ready"))
            for live, record in zip(self._records(), self._records(NEXT), strict=True)
        )

    def _switch(self, backfill: Backfill) -> None:
        """Catch up to the live commit, then make the backfilled definitions live in one
        atomic commit (reads follow it) and retire the storages they replace."""
        old = self.live
        backfill.catch_up(old.checkpoint)
        new = open_processor(
            self.store,
            old.source,
            settings=self.settings,
            log=old.log,
            views=backfill.target,
            instance=old.instance,
            fence=old.fence,
        )
        new.start()
        retired = tuple(
            versioned_storage(self.store.project, n, h)
            for n, h in old.hashes.items()
            if new.hashes.get(n) != h
        )
        checkpoint = new.checkpoint.advanced(
            version=new.version, retired=new.checkpoint.retired + retired
        )
        new.store.commit_stream(new.name, [], checkpoint.to_bytes())
        new.checkpoint = checkpoint
        backfill.clear()
        self.live, self.backfill = new, None
        self._switched = time.monotonic()

    def _retire(self) -> None:
        """Delete the storages the last switch retired, once reads have moved on."""
        checkpoint = self.live.checkpoint
        if not checkpoint.retired or time.monotonic() - self._switched < self.retire_after_s:
            return
        if any(r.version != checkpoint.version for r in self._records()):
            return  # another processor still serves from them
        for storage in checkpoint.retired:
            self.store.online.store.delete_view(storage)
        checkpoint = checkpoint.advanced(retired=())
        self.live.store.commit_stream(self.live.name, [], checkpoint.to_bytes())
        self.live.checkpoint = checkpoint


def rebuild_tiles(store: FeatureStore, processor: StreamProcessor) -> None:
    """Build the tiles of a source's views from its batch source (each in its versioned
    storage), and record the views' definitions as live; the stream then continues.

    Run at the first start over a batch source that already holds history (up to now: the
    history is known, the log holds what comes next), or when the live definitions cannot be
    served (up to the last commit: exactly the landed events).
    """
    ck = processor.checkpoint
    if not ck.commit_us:
        ck = ck.advanced(commit_us=processor.clock())
    runner = Materializer(store.settings.offline, store.root, store.online.store, store.project)
    if store.has_data(processor.source):
        for view in processor.views:
            storage = versioned_storage(store.project, view.name, processor.hashes[view.name])
            runner.run(
                view, Range(end=ck.commit_us), storage=storage, partitions=key_share(processor)
            )
    processor.checkpoint = ck.advanced(version=processor.version, layout=2)
    processor.store.commit_stream(processor.name, [], processor.checkpoint.to_bytes())


def key_share(processor: StreamProcessor) -> KeyPartitions | None:
    """The keys a processor's tiles hold, for the batch engine: those hashing to its
    partitions when several processors share the source (None: every key)."""
    if processor.instance[1] == 1:
        return None
    return processor.owned, processor.log.partitions


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
