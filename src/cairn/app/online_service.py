"""Online features for a project: materialization runs with watermarks, and reads."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cairn.core.config import Settings
from cairn.core.errors import DefinitionError
from cairn.core.online import OnlineStore
from cairn.core.timeutil import to_micros, utcnow
from cairn.core.types import Dtype, Micros, dtype_of_sql
from cairn.metadata import MaterializationRecord, MetadataStore
from cairn.offline import AppliedView, OfflineEngine, parse_refs
from cairn.online.materialize import Materializer, MaterializeResult, Range
from cairn.online.reader import EntityRows, ViewPlan, as_rows, plan_view, respond
from cairn.online.response import OnlineResponse


@dataclass(frozen=True)
class _Request:
    """A parsed feature list, reused while the applied views are the same object."""

    views: Mapping[str, AppliedView]
    plans: list[ViewPlan]
    names: dict[tuple[str, str], str]


class OnlineService:
    """Materializes applied views into an online store and reads them back."""

    def __init__(self, settings: Settings, root: Path, project: str, store: OnlineStore,
                 metadata: MetadataStore, offline: OfflineEngine) -> None:
        self.settings = settings
        self.root = root
        self.project = project
        self.store = store
        self.metadata = metadata
        self.offline = offline
        self._plans: dict[tuple[str, str, tuple[str, ...]], ViewPlan] = {}
        self._requests: dict[tuple[int, tuple[str, ...], bool], _Request] = {}

    def materialize(self, views: Mapping[str, AppliedView], end: datetime,
                    start: datetime | None = None,
                    progress: Callable[[str, int], None] | None = None
                    ) -> list[MaterializeResult]:
        """Incremental from each view's watermark (``start`` None) or over ``[start, end)``."""
        end_us = to_micros(end, owner="end_date")
        start_us = None if start is None else to_micros(start, owner="start_date")
        if start_us is not None and start_us >= end_us:
            raise DefinitionError(f"start_date {start} must be before end_date {end}.")
        marks = self.metadata.last_materializations(self.project)
        runner = Materializer(self.settings.offline, self.root, self.store)
        results = []
        for name, applied in views.items():
            last = marks.get(name)
            after = (last.end_us if last is not None
                     and last.definition_hash == applied.definition_hash else None)
            if start_us is None and after is not None and after >= end_us:
                continue  # nothing new can be visible: the watermark is already at end
            span = Range(end=end_us, after=after if start_us is None else None, start=start_us)
            tick = (lambda n, _name=name: progress(_name, n)) if progress else None
            result = runner.run(applied.view, span, tick)
            self.metadata.record_materialization(self.project, MaterializationRecord(
                name, applied.definition_hash, span.kind, start_us, end_us,
                result.max_event_us, result.records + result.tiles, utcnow()))
            results.append(result)
        return results

    def read(self, views: Mapping[str, AppliedView], features: Sequence[str],
             entity_rows: EntityRows, *, full_feature_names: bool = False,
             at: datetime | None = None) -> OnlineResponse:
        """Online values of ``features`` for ``entity_rows`` at ``at`` (default: now)."""
        request = self._request(views, features, full_feature_names)
        now = to_micros(at if at is not None else utcnow(), owner="at")
        return respond(request.plans, as_rows(entity_rows), request.names, self.store, now)

    def _request(self, views: Mapping[str, AppliedView], features: Sequence[str],
                 full_feature_names: bool) -> _Request:
        cache_key = (id(views), tuple(features) if not isinstance(features, str) else (),
                     full_feature_names)
        request = self._requests.get(cache_key)
        if request is not None and request.views is views:
            return request
        wanted = parse_refs(features, views)
        names = {(v, f): (f"{v}__{f}" if full_feature_names else f)
                 for v, fs in wanted.items() for f in fs}
        if len(set(names.values())) != len(names):
            raise DefinitionError("Two requested features share a name; pass "
                                  "full_feature_names=True to name them view__feature.")
        request = _Request(views, [self._plan(views[v], fs) for v, fs in wanted.items()], names)
        if len(self._requests) > 1024:
            self._requests.clear()
        self._requests[cache_key] = request
        return request

    def _plan(self, applied: AppliedView, features: list[str]) -> ViewPlan:
        cache_key = (applied.view.name, applied.definition_hash, tuple(features))
        plan = self._plans.get(cache_key)
        if plan is None:
            columns = self.offline.source_columns(applied.view)
            source_types = {c: d for c, t in columns.items() if (d := dtype_of_sql(t)) is not None}
            key_types = [source_types[k] for k in applied.view.join_keys]
            outputs: dict[str, Dtype] = applied.view.dtypes(source_types)
            plan = plan_view(applied.view, features, key_types, outputs)
            self._plans[cache_key] = plan
        return plan

    def freshness(self, views: Mapping[str, AppliedView]) -> dict[str, dict[str, Micros | None]]:
        """Per view: watermark and max event time of the materialized data (µs), or None."""
        marks = self.metadata.last_materializations(self.project)
        out: dict[str, dict[str, Micros | None]] = {}
        for name, applied in views.items():
            m = marks.get(name)
            valid = m is not None and m.definition_hash == applied.definition_hash
            out[name] = {"watermark": m.end_us if valid and m else None,
                         "max_event": m.max_event_us if valid and m else None}
        return out
