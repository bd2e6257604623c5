"""Online features for a project: materialization runs with watermarks, and reads."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cairn.app.stream_versions import LiveVersions
from cairn.core.config import Settings
from cairn.core.errors import DataError, DefinitionError
from cairn.core.online import OnlineStore
from cairn.core.timeutil import to_micros, utcnow
from cairn.core.types import Dtype, Micros, dtype_of_sql
from cairn.features.source import batch_of, is_stream
from cairn.metadata import MaterializationRecord, MaterializationState, MetadataStore
from cairn.metadata.run_lock import run_lock
from cairn.offline import AppliedView, OfflineEngine, output_names, parse_refs
from cairn.offline.file_set import FileSet, changed_files, dumps, file_set, loads
from cairn.online.materialize import Materializer, MaterializeResult, Range, storage_name
from cairn.online.reader import EntityRows, ViewPlan, as_rows, plan_view, respond
from cairn.online.response import OnlineResponse
from cairn.streams.landing import has_landed


@dataclass(frozen=True)
class _Request:
    """A parsed feature list, reused while the applied views are the same object."""

    views: Mapping[str, AppliedView]
    plans: list[ViewPlan]
    names: dict[tuple[str, str], str]


class OnlineService:
    """Materializes applied views into an online store and reads them back."""

    def __init__(
        self,
        settings: Settings,
        root: Path,
        project: str,
        store: OnlineStore,
        metadata: MetadataStore,
        offline: OfflineEngine,
    ) -> None:
        self.settings = settings
        self.root = root
        self.project = project
        self.store = store
        self.metadata = metadata
        self.offline = offline
        self._plans: dict[tuple[str, str, tuple[str, ...]], ViewPlan] = {}
        self._types: dict[tuple[str, str], dict[str, Dtype]] = {}
        self._requests: dict[tuple[int, tuple[str, ...], bool, int], _Request] = {}
        self._live = LiveVersions(
            store, project, metadata, processors=settings.streaming.processors
        )
        self._streams: tuple[Mapping[str, AppliedView] | None, list[str]] = (None, [])

    def materialize(
        self,
        views: Mapping[str, AppliedView],
        end: datetime,
        start: datetime | None = None,
        progress: Callable[[str, int], None] | None = None,
    ) -> list[MaterializeResult]:
        """Incremental from each view's watermark (``start`` None) or over ``[start, end)``.

        An incremental run also takes every row of the source files that are new or
        rewritten since the view's last incremental run, whatever their created time (a row
        is materialized by the first incremental run that can see it). Incremental runs of
        one view are serialized across processes (:func:`cairn.metadata.run_lock.run_lock`).
        """
        end_us = to_micros(end, owner="end_date")
        start_us = None if start is None else to_micros(start, owner="start_date")
        if start_us is not None and start_us >= end_us:
            raise DefinitionError(f"start_date {start} must be before end_date {end}.")
        runner = Materializer(self.settings.offline, self.root, self.store, self.project)
        results = []
        for name, applied in views.items():
            if is_stream(applied.view.source):
                continue  # kept current by its stream processor (`cairn stream run`)
            tick = (lambda n, _name=name: progress(_name, n)) if progress else None
            if start_us is not None:
                span = Range(end=end_us, start=start_us)
                results.append(self._run(runner, applied, span, tick, None))
                continue
            lock = f"materialize:{self.project}:{self.store.url}:{name}"
            with run_lock(self.metadata.engine, lock):
                state = self._state({name: applied}).get(name)
                files = file_set(applied.view.source, self.root)  # before the data is read
                incremental = self._incremental(applied, state, files, end_us)
                if incremental is not None:
                    results.append(self._run(runner, applied, incremental, tick, files))
        return results

    def _incremental(
        self,
        applied: AppliedView,
        state: MaterializationState | None,
        files: FileSet,
        end_us: Micros,
    ) -> Range | None:
        """What an incremental run up to ``end_us`` must take; None when nothing can be new."""
        if state is None or state.watermark is None or state.source_files is None:
            return Range(end=end_us)  # first run (or none recorded its files): read it all
        changed = changed_files(loads(state.source_files), files)
        if not changed and state.watermark >= end_us:
            return None  # the watermark is already at end and no file is new
        if not changed:
            return Range(end=end_us, after=state.watermark)
        source = batch_of(applied.view.source)
        if source.format_at(self.root) != "parquet":
            return Range(end=end_us)  # CSV or Delta: rows are not traced to files; read it all
        path = source.resolve(self.root)
        paths = tuple(str(path / f) if path.is_dir() else str(path) for f in changed)
        return Range(end=end_us, after=state.watermark, files=paths)

    def _run(
        self,
        runner: Materializer,
        applied: AppliedView,
        span: Range,
        tick: Callable[[int], None] | None,
        files: FileSet | None,
    ) -> MaterializeResult:
        result = runner.run(applied.view, span, tick)
        self.metadata.record_materialization(
            self.project,
            MaterializationRecord(
                applied.view.name,
                self.store.url,
                applied.definition_hash,
                span.kind,
                span.start,
                span.end,
                result.max_event_us,
                result.records + result.tiles,
                utcnow(),
                None if files is None else dumps(files),
                result.seconds,
            ),
        )
        return result

    def read(
        self,
        views: Mapping[str, AppliedView],
        features: Sequence[str],
        entity_rows: EntityRows,
        *,
        full_feature_names: bool = False,
        at: datetime | None = None,
    ) -> OnlineResponse:
        """Online values of ``features`` for ``entity_rows`` at ``at`` (default: now)."""
        request = self._request(views, features, full_feature_names)
        now = to_micros(at if at is not None else utcnow(), owner="at")
        return respond(request.plans, as_rows(entity_rows), request.names, self.store, now)

    def _request(
        self, views: Mapping[str, AppliedView], features: Sequence[str], full_feature_names: bool
    ) -> _Request:
        streams = self._stream_sources(views)
        cache_key = (
            id(views),
            tuple(features) if not isinstance(features, str) else (),
            full_feature_names,
            self._live.refresh(streams) if streams else 0,
        )
        request = self._requests.get(cache_key)
        if request is not None and request.views is views:
            return request
        wanted = parse_refs(features, views)
        names = output_names(features, full_feature_names)
        request = _Request(views, [self._plan(views[v], fs) for v, fs in wanted.items()], names)
        if len(self._requests) > 1024:
            self._requests.clear()
        self._requests[cache_key] = request
        return request

    def _stream_sources(self, views: Mapping[str, AppliedView]) -> list[str]:
        """The stream sources read by ``views`` (cached while they are the same object: held,
        so its id cannot be reused by another mapping)."""
        if self._streams[0] is not views:
            names = sorted({a.view.source.name for a in views.values() if is_stream(a.view.source)})
            self._streams = (views, names)
        return self._streams[1]

    def warm(self, applied: AppliedView) -> None:
        """Read a view's source schema now, so the first request does not pay for it."""
        self._source_types(applied)

    def feature_types(self, applied: AppliedView) -> dict[str, Dtype]:
        """The type each feature of a view is served with (its source's schema is read once
        per definition and kept, as for reads)."""
        return applied.view.dtypes(self._source_types(applied))

    def _source_types(self, applied: AppliedView) -> dict[str, Dtype]:
        key = (applied.view.name, applied.definition_hash)
        types = self._types.get(key)
        if types is None and is_stream(applied.view.source):
            if not has_landed(applied.view.source.batch, self.root):
                return _declared_types(applied)  # nothing landed yet: not cached
        if types is None:
            columns = self.offline.source_columns(applied.view)
            types = {c: d for c, t in columns.items() if (d := dtype_of_sql(t)) is not None}
            self._types[key] = types
        return types

    def _plan(self, applied: AppliedView, features: list[str]) -> ViewPlan:
        if is_stream(applied.view.source):  # the live definition, in its versioned storage
            applied, storage = self._live.serving(applied, features)
        else:
            storage = storage_name(self.project, applied.view.name)
        cache_key = (applied.view.name, applied.definition_hash, tuple(features))
        plan = self._plans.get(cache_key)
        if plan is None:
            source_types = self._source_types(applied)
            key_types = [source_types[k] for k in applied.view.join_keys]
            outputs: dict[str, Dtype] = applied.view.dtypes(source_types)
            plan = plan_view(
                applied.view,
                features,
                key_types,
                outputs,
                storage,
            )
            self._plans[cache_key] = plan
        return plan

    def freshness(self, views: Mapping[str, AppliedView]) -> dict[str, dict[str, Micros | None]]:
        """Per view: watermark and max event time of the materialized data (µs), or None."""
        marks = self._state(views)
        return {
            name: {
                "watermark": marks[name].watermark if name in marks else None,
                "max_event": marks[name].max_event_us if name in marks else None,
            }
            for name in views
        }

    def states(self, views: Mapping[str, AppliedView]) -> dict[str, MaterializationState]:
        """Per view: where its materialization stands (watermark, last run, newest range run);
        views never materialized into this store are absent."""
        return self._state(views)

    def _state(self, views: Mapping[str, AppliedView]) -> dict[str, MaterializationState]:
        hashes = {n: a.definition_hash for n, a in views.items()}
        return self.metadata.materialization_state(self.project, self.store.url, hashes)


def _declared_types(applied: AppliedView) -> dict[str, Dtype]:
    """The column types of a stream view before any event landed: the source's schema and
    the views' numeric aggregations; a join key of unknown type is a clear error."""
    from cairn.streams.events import landed_columns

    source = applied.view.source
    assert is_stream(source)
    columns = landed_columns(source, [applied.view])
    open_keys = [k for k in applied.view.join_keys if columns.get(k) is None]
    if open_keys:
        raise DataError(
            f"View {applied.view.name!r} reads the stream {source.name!r}, which has landed "
            f"no event yet, so the type of its join key {open_keys[0]!r} is unknown; declare "
            f"it in the source's schema (Field({open_keys[0]!r}, 'int64' or 'string')) or "
            f"run `cairn stream run` once events are produced."
        )
    # before any event every value is null: an open column's type only has to be some type
    return {c: d or Dtype.FLOAT64 for c, d in columns.items()}
