"""Backfill of a changed stream view beside the live one, then the switch.

When the views over a stream source are applied with a new definition (or a new view is
added), the processor keeps serving and updating the live definitions while the new ones are
built in their own storage (:func:`~cairn.online.materialize.versioned_storage`):

1. *backfill*: every changed view is materialized from the landed events up to the live
   checkpoint's commit time ``c0`` (the batch engine: exactly the rows the live tiles hold);
2. *catch-up*: while the processor lands more batches, each pass recomputes the tiles the
   rows landed in ``(done, c]`` touch, from all rows known at ``c`` (idempotent);
3. *switch*: once fewer than ``switch_lag_events`` events separate the backfill from the live
   checkpoint, the processor pauses, the last pass catches up to its commit, and one atomic
   commit makes the new definitions live (reads follow it) and retires the old storages.

Steps 1 and 2 run on a worker thread; a record beside the checkpoint (``<checkpoint>#next``)
says how far the backfill got, so a restarted processor resumes it instead of starting over.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from cairn.core.online import StreamCommitter
from cairn.offline import AppliedView
from cairn.online.materialize import Materializer, Range, versioned_storage
from cairn.streams.checkpoint import Checkpoint, version_of
from cairn.streams.processor import StreamProcessor

if TYPE_CHECKING:
    from cairn.app.feature_store import FeatureStore


NEXT = "#next"
"""The suffix of a backfill record's name (after its processor's checkpoint name)."""


def next_name(checkpoint: str) -> str:
    """Where a source's backfill records its progress (beside its checkpoint).

    Example
    -------
    >>> next_name("credit.__stream__.transactions")
    'credit.__stream__.transactions#next'
    """
    return checkpoint + NEXT


def read_next(processor: StreamProcessor) -> Checkpoint:
    """The backfill record of ``processor``'s source (an empty checkpoint when none runs)."""
    return Checkpoint.from_bytes(processor.store.read_stream_checkpoint(next_name(processor.name)))


class Backfill:
    """Builds the applied definitions ``target`` of a source beside the ``live`` processor's."""

    def __init__(
        self,
        store: FeatureStore,
        live: StreamProcessor,
        target: dict[str, AppliedView],
    ) -> None:
        self.store = store
        self.target = target
        self.version = version_of((n, a.definition_hash) for n, a in target.items())
        live_hashes = Checkpoint(version=live.version).view_hashes()
        self.changed = [
            a for n, a in sorted(target.items()) if live_hashes.get(n) != a.definition_hash
        ]
        self.source = live.source
        self.committer: StreamCommitter = live.store
        self.name = next_name(live.name)
        self.partitions = (
            None if live.instance[1] == 1 else (live.owned, live.log.partitions)
        )  # with several processors, each builds the keys of its partitions
        self.ready = False
        """Caught up to within the switch lag once (recorded, for the other processors)."""
        self.error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._runner = Materializer(
            store.settings.offline, store.root, store.online.store, store.project
        )
        record = Checkpoint.from_bytes(self.committer.read_stream_checkpoint(self.name))
        resumed = record.version == self.version and record.commit_us > 0
        self.done: Checkpoint | None = record.advanced(counts={}) if resumed else None
        if record.version and record.version != self.version:  # abandoned: drop its storages
            self.discard(record, keep=set(live_hashes.items()))
        if not resumed:  # started: `cairn stream status` says so before the first pass ends
            self.committer.commit_stream(self.name, [], Checkpoint(version=self.version).to_bytes())

    # -- progress ---------------------------------------------------------------------------

    def storages(self) -> list[str]:
        """The storages this backfill writes (one per changed view)."""
        return [
            versioned_storage(self.store.project, a.view.name, a.definition_hash)
            for a in self.changed
        ]

    def lag(self, live: Checkpoint) -> int | None:
        """Events the live processor read that the backfill has not taken yet (None before
        its first pass ends)."""
        if self.done is None:
            return None
        return sum(live.offsets.values()) - sum(self.done.offsets.values())

    def advance(self, live: Checkpoint) -> None:
        """Start a pass up to ``live`` on the worker thread, unless one is running; a pass
        that failed re-raises its error here."""
        if self.error is not None:
            raise self.error
        if self._thread is not None and self._thread.is_alive():
            return
        if self.done is not None and self.done.commit_us >= live.commit_us:
            return
        self._thread = threading.Thread(target=self._pass_safely, args=(live,), daemon=True)
        self._thread.start()

    def wait(self) -> None:
        """Wait for the running pass (re-raising its error)."""
        if self._thread is not None:
            self._thread.join()
        if self.error is not None:
            raise self.error

    def catch_up(self, live: Checkpoint) -> None:
        """Run passes on this thread until the backfill stands at ``live``'s commit."""
        self.wait()
        if self.done is None or self.done.commit_us < live.commit_us:
            self._pass(live)

    # -- one pass ---------------------------------------------------------------------------

    def _pass_safely(self, live: Checkpoint) -> None:
        try:
            self._pass(live)
        except BaseException as exc:  # surfaced by advance() / wait() on the loop's thread
            self.error = exc

    def _pass(self, live: Checkpoint) -> None:
        end = live.commit_us
        if self.done is None:
            span = Range(end=end)
        elif self.done.commit_us < end:
            span = Range(end=end, after=self.done.commit_us)
        else:
            return
        if self.store.has_data(self.source):
            for a in self.changed:
                self._runner.run(
                    a.view,
                    span,
                    storage=versioned_storage(self.store.project, a.view.name, a.definition_hash),
                    partitions=self.partitions,
                )
        done = Checkpoint(offsets=dict(live.offsets), commit_us=end, version=self.version)
        self.done = done
        self._record()

    def _record(self) -> None:
        """Write how far the backfill got (and whether it was ready) beside the checkpoint."""
        done = self.done
        if done is None:
            return
        record = done.advanced(counts={"ready": 1} if self.ready else {})
        self.committer.commit_stream(self.name, [], record.to_bytes())

    def mark_ready(self) -> None:
        """Record that this backfill caught up to within the switch lag (the processors of a
        source switch once all of theirs are); waits for no running pass."""
        if self.ready or (self._thread is not None and self._thread.is_alive()):
            return
        self.ready = True
        self._record()

    # -- the end ----------------------------------------------------------------------------

    def clear(self) -> None:
        """Forget the backfill record (after the switch)."""
        self.committer.commit_stream(self.name, [], Checkpoint().to_bytes())

    def discard(self, record: Checkpoint, keep: set[tuple[str, str]]) -> None:
        """Delete the storages of an abandoned backfill (``record``) that neither ``keep``
        (the live (view, hash) pairs) nor this backfill uses, and forget it."""
        keep = keep | {(n, a.definition_hash) for n, a in self.target.items()}
        for view, definition_hash in record.view_hashes().items():
            if (view, definition_hash) not in keep:
                self.store.online.store.delete_view(
                    versioned_storage(self.store.project, view, definition_hash)
                )
        self.clear()

    def abandon(self, keep: set[tuple[str, str]]) -> None:
        """Give this backfill up: delete what it built that ``keep`` (the live (view, hash)
        pairs) does not use, and forget it."""
        for name, applied in self.target.items():
            if (name, applied.definition_hash) not in keep:
                self.store.online.store.delete_view(
                    versioned_storage(self.store.project, name, applied.definition_hash)
                )
        self.clear()
