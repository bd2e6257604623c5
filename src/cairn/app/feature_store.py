"""FeatureStore: the project-level facade (Feast's names) over definitions and engines.

It delegates: definitions are checked by :mod:`cairn.features` and :mod:`cairn.offline`,
recorded by :mod:`cairn.metadata`, and computed by :class:`cairn.offline.OfflineEngine` (training
sets: by the engine ``offline.engine`` names, DuckDB or Spark).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from cairn.app.identity import current_user as current_user
from cairn.app.online_service import OnlineService
from cairn.app.online_stores import open_online_store
from cairn.app.push import push as push_rows
from cairn.core.config import Settings
from cairn.core.errors import DefinitionError
from cairn.core.online import OnlineStore, encode_key
from cairn.core.timeutil import utcnow
from cairn.features import (
    Entity,
    FeatureView,
    FileSource,
    KafkaSource,
    LocalStreamSource,
    PushSource,
    RedisStreamSource,
    Source,
    StreamSource,
    definition_hash,
    is_stream,
    source_from_spec,
)
from cairn.metadata import DefinitionChange, MetadataStore, NewDefinition
from cairn.offline import AppliedView, OfflineEngine, RetrievalJob
from cairn.offline.engine import TrainingSetEngine
from cairn.offline.entities import EntityInput
from cairn.offline.select import training_engine
from cairn.online.materialize import MaterializeResult
from cairn.online.reader import EntityRows
from cairn.online.response import OnlineResponse
from cairn.quality import QualityStore, Suite
from cairn.quality.gate import gate_materialization, gate_training_set
from cairn.streams.event_log import EventLog

Definition = Entity | Source | FeatureView
_KIND = {
    Entity: "entity",
    FileSource: "source",
    PushSource: "source",
    LocalStreamSource: "source",
    KafkaSource: "source",
    RedisStreamSource: "source",
    FeatureView: "feature_view",
}


@dataclass(frozen=True)
class ApplyResult:
    """What ``apply`` recorded: one change per object (created, updated or unchanged)."""

    changes: list[DefinitionChange]

    @property
    def changed(self) -> list[DefinitionChange]:
        """Only the objects that got a new version."""
        return [c for c in self.changes if c.status != "unchanged"]


class FeatureStore:
    """A Cairn project: definitions, the offline store, and (later) the online store.

    Parameters
    ----------
    repo_path:
        A folder with a ``cairn.yaml``; ``project: NAME`` alone is a valid configuration.
    settings:
        Settings to use instead of reading ``cairn.yaml`` (tests, embedding).
    online_store:
        An online store to use instead of the one ``online.url`` names.
    metadata:
        The metadata store to share (``Project`` passes its own; default: opened on first
        use from ``metadata.url``).

    Example
    -------
    >>> import tempfile, pathlib
    >>> repo = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (repo / "cairn.yaml").write_text("project: demo")
    >>> FeatureStore(repo).project
    'demo'
    """

    def __init__(
        self,
        repo_path: str | Path = ".",
        *,
        settings: Settings | None = None,
        online_store: OnlineStore | None = None,
        metadata: MetadataStore | None = None,
    ) -> None:
        self.root = Path(repo_path).resolve()
        self.settings = settings or Settings.load(self.root)
        self.project = self.settings.project
        self._metadata: MetadataStore | None = metadata
        self._online: OnlineService | None = None
        self._online_store = online_store
        self._views_cache: dict[str, AppliedView] | None = None
        self._logs: dict[str, EventLog] = {}
        self.offline = OfflineEngine(self.settings.offline, self.root, self.project)
        self.training: TrainingSetEngine = training_engine(self.offline)
        """The engine of training sets (``offline.engine``: DuckDB, or Spark over it)."""

    @property
    def metadata(self) -> MetadataStore:
        """The metadata store (opened on first use)."""
        if self._metadata is None:
            self._metadata = MetadataStore(self.settings.metadata.url, root=self.root)
        return self._metadata

    @property
    def online(self) -> OnlineService:
        """Online features: materialization and reads (the store opens on first use)."""
        if self._online is None:
            store = self._online_store or open_online_store(self.settings.online, self.root)
            self._online = OnlineService(
                self.settings, self.root, self.project, store, self.metadata, self.offline
            )
        return self._online

    def materialize(
        self,
        start_date: datetime,
        end_date: datetime,
        feature_views: Sequence[str] | None = None,
        progress: Callable[[str, int], None] | None = None,
        *,
        quality: Suite | str | Path | None = None,
    ) -> list[MaterializeResult]:
        """Write the values visible by ``end_date`` of rows with event time in
        ``[start_date, end_date)`` to the online store (snapshot winners and window tiles).

        With ``quality`` (a suite or its file), each view's source rows in the range are
        validated first; a halting failure raises ``cairn.quality.QualityGateError`` before
        anything is written (see :func:`cairn.quality.gate.gate_materialization`).
        """
        views = self._views(feature_views)
        if quality is not None:
            gate_materialization(
                quality,
                views,
                root=self.root,
                settings=self.settings,
                end=end_date,
                start=start_date,
                store=self._quality_store(),
            )
        return self.online.materialize(views, end_date, start_date, progress)

    def materialize_incremental(
        self,
        end_date: datetime,
        feature_views: Sequence[str] | None = None,
        progress: Callable[[str, int], None] | None = None,
        *,
        quality: Suite | str | Path | None = None,
    ) -> list[MaterializeResult]:
        """Write everything that became visible since each view's watermark, up to
        ``end_date``; late rows (known after their event time) are picked up.

        With ``quality``, the rows that became visible since each view's watermark are
        validated first, as in :meth:`materialize`.
        """
        views = self._views(feature_views)
        if quality is not None:
            marks = {n: f["watermark"] for n, f in self.online.freshness(views).items()}
            gate_materialization(
                quality,
                views,
                root=self.root,
                settings=self.settings,
                end=end_date,
                watermarks=marks,
                store=self._quality_store(),
            )
        return self.online.materialize(views, end_date, None, progress)

    def _quality_store(self) -> QualityStore:
        """Quality results live in the project's metadata store, with history."""
        return QualityStore(self.metadata, project=self.project)

    def get_online_features(
        self,
        features: Sequence[str],
        entity_rows: EntityRows,
        full_feature_names: bool = False,
        *,
        at: datetime | None = None,
    ) -> OnlineResponse:
        """Online values: for each entity row, what the offline point-in-time join returns for
        that key at the time of the request (``at``, default now).

        Parameters
        ----------
        features:
            ``"view:feature"`` references.
        entity_rows:
            ``[{"customer_id": 42}, ...]`` or ``{"customer_id": [42, ...]}``.

        Returns
        -------
        OnlineResponse
            ``.to_dict()`` / ``.to_df()``: join keys, features, and a per-row ``found`` flag.
        """
        return self.online.read(
            self._applied_views(),
            features,
            entity_rows,
            full_feature_names=full_feature_names,
            at=at,
        )

    def push(
        self,
        push_source: str | PushSource,
        df: pd.DataFrame | pa.Table,
        *,
        now: datetime | None = None,
    ) -> list[MaterializeResult]:
        """Append rows to a push source's offline log and bring the online store up to date
        for every view it feeds, in one call.

        Rows without the log's created column get the push time, so training sets built later
        see them exactly from when they were known.
        """
        source = self._push_source(push_source)
        views = {
            n: a for n, a in self._applied_views().items() if a.view.source.name == source.name
        }
        moment = now or utcnow()
        push_rows(source, df, views, self.root, moment)
        # the same incremental run as a scheduled one: everything visible by now, no gap
        return self.online.materialize(views, moment + timedelta(microseconds=1))

    def produce(
        self,
        source: str | StreamSource,
        rows: pd.DataFrame | pa.Table | Iterable[Mapping[str, Any]],
    ) -> list[tuple[int, int]]:
        """Append rows as events to a stream source's log (embedded, Redis Streams or Kafka);
        returns each event's ``(partition, offset)``, durable once returned.

        Rows need the source's event-time field (timezone-aware); events are keyed by the join
        keys of the views over the source. ``cairn stream run`` turns them into features.
        """
        from cairn.streams.events import event_values

        src = self.stream_source(source)
        values = event_values(src, rows)
        joins = {a.view.join_keys for a in self.stream_views(src).values()}
        fields = next(iter(joins)) if len(joins) == 1 else ()

        def key(value: Mapping[str, Any]) -> str | None:
            parts = [value.get(k) for k in fields]
            return None if not parts or None in parts else encode_key(parts)

        return self.stream_log(src).produce(values, key=key, timestamp=None)

    def stream_log(self, source: str | StreamSource) -> EventLog:
        """The event log of an applied stream source, opened once and kept open (a Kafka
        producer's first append waits about half a second; later ones do not)."""
        from cairn.streams.logs import open_log

        src = self.stream_source(source)
        log = self._logs.get(src.name)
        if log is None:
            log = self._logs[src.name] = open_log(src, self.root)
        return log

    def stream_views(self, source: str | StreamSource) -> dict[str, AppliedView]:
        """The applied views that read the stream source ``source``."""
        name = source if isinstance(source, str) else source.name
        return {n: a for n, a in self._applied_views().items() if a.view.source.name == name}

    def stream_source(self, source: str | StreamSource) -> StreamSource:
        """The applied stream source ``source``; a KeyError lists the applied ones."""
        wanted = source if isinstance(source, str) else source.name
        found = [s for s in self.list_sources() if is_stream(s)]
        for s in found:
            if s.name == wanted and is_stream(s):
                return s
        names = ", ".join(s.name for s in found) or "none"
        raise KeyError(f"No stream source {wanted!r} is applied; applied stream sources: {names}.")

    def _push_source(self, source: str | PushSource) -> PushSource:
        name = source if isinstance(source, str) else source.name
        for s in self.list_sources():
            if s.name == name and isinstance(s, PushSource):
                return s
        raise KeyError(f"No push source {name!r} is applied; apply a PushSource first.")

    def _views(self, names: Sequence[str] | None) -> dict[str, AppliedView]:
        views = self._applied_views()
        if names is None:
            return views
        unknown = [n for n in names if n not in views]
        if unknown:
            raise KeyError(
                f"No feature view {unknown[0]!r}; applied views: {', '.join(views) or 'none'}."
            )
        return {n: views[n] for n in names}

    def apply(self, objects: Iterable[Definition]) -> ApplyResult:
        """Validate definitions against their data and record them with a definition hash.

        Entities and sources used by a view are applied with it. Re-applying an unchanged object
        is a no-op; a change bumps its version.
        """
        entities, sources, views = _collect(objects)
        for view in views.values():
            if self.has_data(view.source):
                self.offline.source_columns(view)
        used = {v.source.name for v in views.values()}
        for source in sources.values():
            if source.name not in used and self.has_data(source):
                self.offline.check_source(source)
        hashes: dict[str, str] = {}
        records: list[NewDefinition] = []
        for e in entities.values():
            hashes[f"entity:{e.name}"] = h = definition_hash(e)
            records.append(NewDefinition("entity", e.name, h, e.to_spec()))
        for s in sources.values():
            hashes[f"source:{s.name}"] = h = definition_hash(s)
            records.append(NewDefinition("source", s.name, h, s.to_spec()))
        for v in views.values():
            deps = {f"entity:{e.name}": hashes[f"entity:{e.name}"] for e in v.entities}
            deps[f"source:{v.source.name}"] = hashes[f"source:{v.source.name}"]
            records.append(
                NewDefinition("feature_view", v.name, definition_hash(v, deps=deps), v.to_spec())
            )
        result = ApplyResult(self.metadata.apply(self.project, records, current_user()))
        self.refresh()
        return result

    def has_data(self, source: Source) -> bool:
        """Push and stream sources may be applied before anything landed; file sources must
        exist."""
        if is_stream(source):
            from cairn.streams.landing import has_landed

            return has_landed(source.batch, self.root)
        return not isinstance(source, PushSource) or source.resolve(self.root).exists()

    def list_entities(self) -> list[Entity]:
        """Applied entities, by name."""
        return [Entity.from_spec(r.spec) for r in self.metadata.latest(self.project, "entity")]

    def list_sources(self) -> list[Source]:
        """Applied sources, by name."""
        return [source_from_spec(r.spec) for r in self.metadata.latest(self.project, "source")]

    def list_feature_views(self) -> list[FeatureView]:
        """Applied feature views, by name."""
        return [a.view for a in self._applied_views().values()]

    def get_feature_view(self, name: str) -> FeatureView:
        """One applied view; a KeyError lists the applied ones."""
        views = self._applied_views()
        if name not in views:
            raise KeyError(
                f"No feature view {name!r}; applied views: {', '.join(views) or 'none'}."
            )
        return views[name].view

    def get_historical_features(
        self,
        entity_df: EntityInput,
        features: Sequence[str],
        full_feature_names: bool = False,
        *,
        quality: Suite | str | Path | None = None,
    ) -> RetrievalJob:
        """A point-in-time-correct training set (DESIGN §3.1, §3.2).

        Parameters
        ----------
        entity_df:
            The rows to build: a DataFrame (or Arrow table) with the join keys and a tz-aware
            ``event_timestamp``; a Parquet/CSV path; or SQL over the applied sources, which are
            visible as tables named after them (``SELECT customer_id, event_timestamp FROM
            applications``).
        features:
            ``"view:feature"`` references.
        full_feature_names:
            Name output columns ``view__feature`` instead of ``feature``.
        quality:
            A quality suite (or its file) the training set must pass: ``.to_df()``,
            ``.to_arrow()`` and ``.to_parquet()`` validate what they return (the entity columns
            and the features) and raise ``cairn.quality.QualityGateError``, naming the failing
            checks, on a critical or high failure; results are kept with history.

        Returns
        -------
        RetrievalJob
            ``.to_df()``, ``.to_arrow()``, ``.to_parquet(path)`` and ``.manifest``. The rows are
            exactly the entity rows given, in order; features are null where nothing is visible.
        """
        from cairn.core.version import package_version

        job = self.training.get_historical_features(
            entity_df,
            features,
            self._applied_views(),
            full_feature_names=full_feature_names,
            sources=self.list_sources(),
            version=package_version(),
        )
        if quality is None:
            return job
        return gate_training_set(job, quality, store=self._quality_store())

    def refresh(self) -> None:
        """Forget cached definitions: the next call reads them from the metadata store (for
        long-running processes when another process applies changes)."""
        self._views_cache = None

    def applied_views(self) -> dict[str, AppliedView]:
        """Applied views with their versions and definition hashes (cached; see refresh)."""
        return self._applied_views()

    def _applied_views(self) -> dict[str, AppliedView]:
        if self._views_cache is None:
            self._views_cache = self._load_views()
        return self._views_cache

    def _load_views(self) -> dict[str, AppliedView]:
        records = self.metadata.latest(self.project)
        entities = {r.name: Entity.from_spec(r.spec) for r in records if r.kind == "entity"}
        sources = {r.name: source_from_spec(r.spec) for r in records if r.kind == "source"}
        return {
            r.name: AppliedView(
                FeatureView.from_spec(r.spec, entities, sources), r.version, r.definition_hash
            )
            for r in records
            if r.kind == "feature_view"
        }


def _collect(
    objects: Iterable[Any],
) -> tuple[dict[str, Entity], dict[str, Source], dict[str, FeatureView]]:
    found: dict[str, dict[str, Any]] = {"entity": {}, "source": {}, "feature_view": {}}

    def add(obj: Any) -> None:
        kind = _KIND.get(type(obj))
        if kind is None:
            raise DefinitionError(
                f"apply() takes Entity, FileSource, PushSource, LocalStreamSource, KafkaSource, "
                f"RedisStreamSource and FeatureView objects; "
                f"got {obj!r}."
            )
        same = found[kind].get(obj.name)
        if same is not None and same != obj:
            raise DefinitionError(
                f"Two different {kind.replace('_', ' ')}s are named {obj.name!r}; names "
                f"must be unique."
            )
        found[kind][obj.name] = obj

    for obj in objects:
        add(obj)
        if isinstance(obj, FeatureView):
            for e in obj.entities:
                add(e)
            add(obj.source)
    return found["entity"], found["source"], found["feature_view"]
