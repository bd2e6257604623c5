"""The Features pages' data: every applied feature view (paged) with its definition,
freshness and stream lag (:mod:`~cairn.ui.web.freshness`) and the project's newest
materialization runs; one view's definition versions and its runs (paged).

Runs are the rows the online service records when a materialization finishes
(:meth:`cairn.metadata.MetadataStore.materializations`), into the project's online store, each
incremental run with the watermark it started from. Definition versions are those ``cairn
apply`` recorded (:meth:`cairn.metadata.MetadataStore.history`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from cairn.core.timeutil import from_micros, utcnow
from cairn.core.urls import redact_url
from cairn.ui.web.freshness import ViewRow, require_view, view_rows
from cairn.ui.web.paging import PAGE_SIZE, Page, paginate

if TYPE_CHECKING:
    from cairn.app.feature_store import FeatureStore
    from cairn.app.project import Project
    from cairn.metadata import DefinitionRecord
    from cairn.offline import AppliedView

__all__ = [
    "RECENT_RUNS",
    "FeaturesPage",
    "MaterializationRun",
    "ViewPage",
    "gather_features",
    "gather_view",
]

RECENT_RUNS = 10
"""Materialization runs the Features page lists (a view's page lists all of its own)."""


@dataclass(frozen=True)
class MaterializationRun:
    """One recorded run: incremental runs take the rows that became visible after ``after``
    (the watermark before the run; None: the first run, everything) up to ``end``; range runs
    the rows of event time in ``[start, end)``."""

    view: str
    kind: str
    after: datetime | None
    start: datetime | None
    end: datetime
    newest_event: datetime | None
    rows: int
    seconds: float | None
    finished: datetime
    definition_hash: str
    current: bool


@dataclass(frozen=True)
class FeaturesPage:
    """Every applied view (paged), the newest runs, and the online store they are read from."""

    views: Page[ViewRow]
    runs: list[MaterializationRun]
    total_runs: int
    online_store: str
    now: datetime
    warnings: list[str]


@dataclass(frozen=True)
class ViewPage:
    """One view: its row, every version of its definition (newest first), its runs (paged)."""

    view: ViewRow
    versions: list[DefinitionRecord]
    runs: Page[MaterializationRun]
    online_store: str
    now: datetime


def gather_features(project: Project, page: int) -> FeaturesPage:
    """Page ``page`` of the applied views (by name) with freshness and stream lag, and the
    project's newest materialization runs."""
    store = project.features
    store.refresh()  # another process may have applied since the last page
    now = utcnow()
    views = store.applied_views()
    shown = paginate(sorted(views), page)
    warnings: list[str] = []
    rows = view_rows(store, {n: views[n] for n in shown.items}, now, warnings)
    url = store.online.store.url
    return FeaturesPage(
        Page(rows, shown.number, shown.pages, shown.total),
        _runs(store, views, limit=RECENT_RUNS),
        store.metadata.materialization_count(store.project, store_url=url),
        redact_url(store.online.store.url),
        now,
        warnings,
    )


def gather_view(project: Project, name: str, page: int) -> ViewPage:
    """The page of view ``name`` (:class:`PageNotFound` when no such view is applied)."""
    store = project.features
    store.refresh()
    now = utcnow()
    views = require_view(store, name)
    warnings: list[str] = []
    [row] = view_rows(store, {name: views[name]}, now, warnings)
    versions = list(reversed(store.metadata.history(store.project, "feature_view", name)))
    url = store.online.store.url
    total = store.metadata.materialization_count(store.project, view=name, store_url=url)
    window = paginate(range(total), page)  # which of the view's runs the page holds
    runs = _runs(store, views, view=name, limit=PAGE_SIZE, offset=(window.number - 1) * PAGE_SIZE)
    return ViewPage(
        row, versions, Page(runs, window.number, window.pages, total), redact_url(url), now
    )


def _runs(
    store: FeatureStore,
    views: dict[str, AppliedView],
    *,
    view: str | None = None,
    limit: int,
    offset: int = 0,
) -> list[MaterializationRun]:
    """``limit`` recorded runs into the project's online store (of one view: None for all),
    newest first, after the ``offset`` newest."""
    records = store.metadata.materializations(
        store.project, view=view, store_url=store.online.store.url, limit=limit, offset=offset
    )
    return [
        MaterializationRun(
            r.view,
            r.kind,
            None if r.after_us is None else from_micros(r.after_us),
            None if r.start_us is None else from_micros(r.start_us),
            from_micros(r.end_us),
            None if r.max_event_us is None else from_micros(r.max_event_us),
            r.rows_written,
            r.seconds,
            r.finished_at,
            r.definition_hash,
            r.view in views and views[r.view].definition_hash == r.definition_hash,
        )
        for r in records
    ]
