"""Which definition of a view over a stream is served, and where its tiles are.

A view over a stream source is stored once per definition
(:func:`~cairn.online.materialize.versioned_storage`). The checkpoint of the source's
processor names the definitions it keeps current (``Checkpoint.version``): those are the
*live* ones, and reads use them. When a view's definition changes, the new one is backfilled
beside the live one (:mod:`cairn.app.stream_backfill`) and becomes live in the atomic commit
that switches the processor to it; reads follow that commit, so until then they are served
by the old definition, whole and current.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from cairn.core.errors import UnknownFeatureError
from cairn.core.online import OnlineStore, StreamCommitter
from cairn.features.entity import Entity
from cairn.features.feature_view import FeatureView
from cairn.features.source import source_from_spec
from cairn.metadata import MetadataStore
from cairn.offline import AppliedView
from cairn.online.materialize import versioned_storage
from cairn.streams.processor import processor_checkpoints


def definition_at(
    metadata: MetadataStore, project: str, name: str, definition_hash: str
) -> AppliedView | None:
    """The applied view ``name`` as it was when its definition hash was ``definition_hash``
    (None when no version of it had that hash); entities and sources as applied now."""
    found = [
        r
        for r in metadata.history(project, "feature_view", name)
        if r.definition_hash == definition_hash
    ]
    if not found:
        return None
    records = metadata.latest(project)
    entities = {r.name: Entity.from_spec(r.spec) for r in records if r.kind == "entity"}
    sources = {r.name: source_from_spec(r.spec) for r in records if r.kind == "source"}
    record = found[-1]
    return AppliedView(
        FeatureView.from_spec(record.spec, entities, sources), record.version, definition_hash
    )


class LiveVersions:
    """The live definitions of every stream source, re-read at most every ``ttl`` seconds
    (one small read per source), for the read path.

    ``epoch`` grows whenever a re-read finds a change, so cached read plans can be keyed by it.
    """

    def __init__(
        self,
        online: OnlineStore,
        project: str,
        metadata: MetadataStore,
        *,
        ttl: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        processors: int = 1,
    ) -> None:
        self.online = online
        self.project = project
        self.metadata = metadata
        self.ttl = ttl
        self.clock = clock
        self.processors = processors
        self.epoch = 0
        self._hashes: dict[str, list[dict[str, str]] | None] = {}
        self._read_at = -float("inf")
        self._definitions: dict[tuple[str, str], AppliedView | None] = {}
        self._lock = threading.Lock()

    def refresh(self, sources: list[str]) -> int:
        """Re-read the live definitions of ``sources`` when ``ttl`` has passed; the epoch."""
        now = self.clock()
        missing = [s for s in sources if s not in self._hashes]
        if not missing and now - self._read_at < self.ttl:
            return self.epoch
        with self._lock:
            fresh = {s: self._read(s) for s in set(sources) | set(self._hashes)}
            if fresh != self._hashes:
                self._hashes = fresh
                self.epoch += 1
            self._read_at = now
        return self.epoch

    def _read(self, source: str) -> list[dict[str, str]] | None:
        """The live definitions of each processor of ``source`` that committed (None: none)."""
        if not isinstance(self.online, StreamCommitter):
            return None
        checkpoints = processor_checkpoints(self.online, self.project, source, self.processors)
        found = [h for ck in checkpoints if (h := ck.view_hashes())]
        return found or None

    def serving(self, applied: AppliedView, features: list[str]) -> tuple[AppliedView, str]:
        """The definition reads of ``applied`` use now and the storage of its tiles.

        Before the source's processor ever committed, that is the applied definition; once
        it has, it is the live one, which lags the applied one while a backfill runs. A
        feature only the applied definition has, or a view the processor does not serve
        yet, is an :class:`UnknownFeatureError` saying so.
        """
        view = applied.view
        live = self._hashes.get(view.source.name)
        if live is None:
            return applied, versioned_storage(self.project, view.name, applied.definition_hash)
        # several processors switch within a batch of each other; until the last one has,
        # the definition they all still maintain (or maintained last) serves
        served = {hashes[view.name] for hashes in live if view.name in hashes}
        older = sorted(served - {applied.definition_hash})
        wanted = older[0] if older else (applied.definition_hash if served else None)
        if wanted is None:
            raise UnknownFeatureError(
                f"View {view.name!r} is not served yet: the processor of the stream "
                f"{view.source.name!r} is backfilling it (or has not seen it: is `cairn stream "
                f"run` running?); `cairn stream status` shows its progress."
            )
        if wanted == applied.definition_hash:
            return applied, versioned_storage(self.project, view.name, wanted)
        key = (view.name, wanted)
        if key not in self._definitions:
            self._definitions[key] = definition_at(self.metadata, self.project, view.name, wanted)
        old = self._definitions[key]
        if old is None:
            raise UnknownFeatureError(
                f"View {view.name!r} is served by definition {wanted[:12]}, which the "
                f"metadata store does not hold; restart `cairn stream run` to rebuild it."
            )
        newer = [f for f in features if f not in old.view.feature_names]
        if newer:
            raise UnknownFeatureError(
                f"Feature {view.name}:{newer[0]} is in the definition of {view.name!r} being "
                f"backfilled ({applied.definition_hash[:12]}), not in the one served until "
                f"the switch ({wanted[:12]}); `cairn stream status` shows the backfill's lag."
            )
        return old, versioned_storage(self.project, view.name, wanted)
