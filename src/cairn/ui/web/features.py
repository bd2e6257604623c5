"""The Features pages' data: every applied feature view (entities, source, features with their
types, windowed aggregates, TTL, its version and definition hash), its freshness, the lag of
its stream, and its materialization runs; one view's definition versions and runs; and an
online/offline consistency check of a view on request.

Freshness is what ``cairn status`` prints (:func:`cairn.app.consistency.status`): the watermark
of the incremental runs, the newest materialized event time, and how old each is. Stream lag is
what ``cairn stream status`` prints (:func:`cairn.app.stream_status.stream_status`), read only
when a view reads a stream. Runs are the rows the online service records after each
materialization (:meth:`cairn.metadata.MetadataStore.materializations`), into the project's
online store. The consistency check is ``cairn consistency check``
(:func:`cairn.app.consistency.check_consistency`): it samples keys and reads them both ways, so
it runs only when its page is asked for, never on the list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cairn.core.timeutil import format_duration, from_micros, utcnow
from cairn.core.urls import redact_url
from cairn.features.source import is_stream
from cairn.ui.web.paging import PAGE_SIZE, BadPageInput, Page, PageNotFound, paginate

if TYPE_CHECKING:
    from cairn.app.consistency import ConsistencyReport
    from cairn.app.feature_store import FeatureStore
    from cairn.app.project import Project
    from cairn.metadata import DefinitionRecord
    from cairn.offline import AppliedView

__all__ = [
    "RECENT_RUNS",
    "ConsistencyPage",
    "FeatureColumn",
    "FeaturesPage",
    "MaterializationRun",
    "StreamLag",
    "ViewPage",
    "ViewRow",
    "age_text",
    "gather_consistency",
    "gather_features",
    "gather_view",
    "parse_count",
]

RECENT_RUNS = 10
"""Materialization runs the Features page lists (a view's page lists all of its own)."""


@dataclass(frozen=True)
class FeatureColumn:
    """One feature: its name, the type it is served with (None: the source is unreadable),
    and for a windowed one its aggregate (``sum(amount) over 24h, hop 1h``)."""

    name: str
    dtype: str | None
    aggregate: str | None = None


@dataclass(frozen=True)
class StreamLag:
    """Where the processor(s) of a view's stream source stand (``cairn stream status``)."""

    source: str
    lag_events: int
    lag_seconds: float | None
    events_per_second: float
    last_commit: datetime | None
    version_state: str


@dataclass(frozen=True)
class ViewRow:
    """One applied view with its freshness (ages in seconds at ``now`` of the page)."""

    name: str
    entities: list[str]
    join_keys: list[str]
    source: str
    source_kind: str
    kind: str
    ttl: str | None
    version: int
    definition_hash: str
    description: str
    columns: list[FeatureColumn]
    online: str
    watermark: datetime | None
    watermark_age: float | None
    newest_event: datetime | None
    newest_event_age: float | None
    last_run: datetime | None
    stream: StreamLag | None


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


@dataclass(frozen=True)
class ConsistencyPage:
    """A consistency check of one view, or why it could not run (never materialized...)."""

    view: str
    sample: int
    seed: int
    report: ConsistencyReport | None
    problem: str | None


def gather_features(project: Project, page: int) -> FeaturesPage:
    """Page ``page`` of the applied views (by name) with freshness and stream lag, and the
    project's newest materialization runs."""
    store = project.features
    store.refresh()  # another process may have applied since the last page
    now = utcnow()
    views = store.applied_views()
    shown = paginate(sorted(views), page)
    warnings: list[str] = []
    lags = _stream_lags(store, [views[n] for n in shown.items], warnings)
    rows = _view_rows(store, {n: views[n] for n in shown.items}, lags, now, warnings)
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
    views = _applied(store, name)
    warnings: list[str] = []
    lags = _stream_lags(store, [views[name]], warnings)
    [row] = _view_rows(store, {name: views[name]}, lags, now, warnings)
    versions = list(reversed(store.metadata.history(store.project, "feature_view", name)))
    url = store.online.store.url
    total = store.metadata.materialization_count(store.project, view=name, store_url=url)
    window = paginate(range(total), page)  # which of the view's runs the page holds
    runs = _runs(store, views, view=name, limit=PAGE_SIZE, offset=(window.number - 1) * PAGE_SIZE)
    return ViewPage(
        row, versions, Page(runs, window.number, window.pages, total), redact_url(url), now
    )


def gather_consistency(project: Project, name: str, sample: int, seed: int) -> ConsistencyPage:
    """``cairn consistency check NAME --sample SAMPLE --seed SEED`` at the view's watermark."""
    from cairn.app.consistency import check_consistency
    from cairn.core.errors import CairnError

    store = project.features
    store.refresh()
    _applied(store, name)
    try:
        report = check_consistency(store, name, sample, None, seed)
    except CairnError as exc:
        return ConsistencyPage(name, sample, seed, None, str(exc))
    return ConsistencyPage(name, sample, seed, report, None)


def parse_count(text: str | None, name: str, default: int, low: int, high: int) -> int:
    """A whole-number query parameter in ``[low, high]`` (``default`` when absent).

    Example
    -------
    >>> parse_count("200", "sample", 100, 1, 10_000), parse_count(None, "seed", 0, 0, 2**31)
    (200, 0)
    """
    if text is None or text == "":
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise BadPageInput(
            f"The query parameter {name!r} must be a whole number from {low} to {high}; "
            f"got {text!r}."
        )
    return int(text)


def age_text(seconds: float | None) -> str:
    """An age for reading: seconds, minutes, hours, then days (a dash when unknown).

    Example
    -------
    >>> [age_text(s) for s in (42, 600, 7_200 * 3, 86_400 * 150.5, None)]
    ['42 s', '10 min', '6.0 h', '150.5 d', '–']
    """
    if seconds is None:
        return "–"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7_200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172_800:
        return f"{seconds / 3_600:.1f} h"
    return f"{seconds / 86_400:.1f} d"


def _applied(store: FeatureStore, name: str) -> dict[str, AppliedView]:
    """The applied views (:class:`PageNotFound` when ``name`` is not one of them)."""
    views = store.applied_views()
    if name not in views:
        known = ", ".join(sorted(views)) or "none"
        raise PageNotFound(f"No feature view {name!r}; applied views: {known}.")
    return views


def _view_rows(
    store: FeatureStore,
    views: dict[str, AppliedView],
    lags: dict[str, StreamLag],
    now: datetime,
    warnings: list[str],
) -> list[ViewRow]:
    """A row per view: its definition, the status ``cairn status`` prints, its stream lag."""
    from cairn.app.consistency import status

    marks = {s["view"]: s for s in status(store, now) if s["view"] in views}
    out = []
    for name, applied in views.items():
        view, mark = applied.view, marks.get(name, {})
        newest = mark.get("max_event")
        stream = is_stream(view.source)
        if stream:
            online = "stream"
        elif mark.get("watermark") or mark.get("last_range_end"):
            online = "materialized"
        else:
            online = "not materialized"
        out.append(
            ViewRow(
                name,
                [e.name for e in view.entities],
                list(view.join_keys),
                view.source.name,
                str(view.source.to_spec().get("type", "file")),
                "windowed" if view.is_windowed else "snapshot",
                None if view.ttl is None else str(view.ttl),
                applied.version,
                applied.definition_hash,
                view.description,
                _columns(store, applied, warnings),
                online,
                mark.get("watermark"),
                mark.get("freshness_seconds"),
                newest,
                None if newest is None else (now - newest).total_seconds(),
                mark.get("last_run"),
                lags.get(view.source.name) if stream else None,
            )
        )
    return out


def _columns(store: FeatureStore, applied: AppliedView, warnings: list[str]) -> list[FeatureColumn]:
    """The view's features with the types they are served with."""
    from cairn.core.errors import CairnError

    view = applied.view
    try:
        types: dict[str, Any] = store.online.feature_types(applied)
    except (CairnError, KeyError, OSError) as exc:
        warnings.append(f"View {view.name!r}: its source's schema cannot be read ({exc}).")
        types = {f.name: f.dtype for f in view.schema}
    if not view.aggregations:
        return [FeatureColumn(f.name, _type(types.get(f.name))) for f in view.schema]
    return [
        FeatureColumn(
            a.name,
            _type(types.get(a.name)),
            f"{a.function}({a.column}) over {_span(a.window)}"
            + (f", hop {_span(a.hop)}" if a.hop is not None else ""),
        )
        for a in view.aggregations
    ]


def _type(dtype: Any) -> str | None:
    return None if dtype is None else str(getattr(dtype, "value", dtype))


def _span(value: Any) -> str:
    from cairn.core.timeutil import parse_duration

    return format_duration(parse_duration(value))


def _stream_lags(
    store: FeatureStore, views: list[AppliedView], warnings: list[str]
) -> dict[str, StreamLag]:
    """Per stream source read by ``views``: ``cairn stream status`` (nothing to read else)."""
    from cairn.core.errors import CairnError

    if not any(is_stream(a.view.source) for a in views):
        return {}
    from cairn.app.stream_status import stream_status

    try:
        rows = stream_status(store)
    except (CairnError, OSError) as exc:
        warnings.append(f"The stream status cannot be read: {exc}")
        return {}
    return {
        r["source"]: StreamLag(
            r["source"],
            int(r["lag_events"]),
            r["lag_seconds"],
            float(r["events_per_second"]),
            None if r["last_commit_us"] is None else from_micros(r["last_commit_us"]),
            str(r["version_state"]),
        )
        for r in rows
    }


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
