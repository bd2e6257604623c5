"""Each applied feature view as the dashboard lists it: its definition (entities, source,
features with the types they are served with, windowed aggregates, TTL, version and definition
hash), its freshness and the lag of its stream.

Freshness is what ``cairn status`` prints (:func:`cairn.app.consistency.status`): the watermark
of the incremental runs, the newest materialized event time, and how old each is. Stream lag is
what ``cairn stream status`` prints (:func:`cairn.app.stream_status.stream_status`), read only
when a view reads a stream. Feature types are those online reads serve
(:meth:`cairn.app.online_service.OnlineService.feature_types`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cairn.core.timeutil import format_duration, from_micros
from cairn.features.source import is_stream
from cairn.ui.web.paging import PageNotFound

if TYPE_CHECKING:
    from cairn.app.feature_store import FeatureStore
    from cairn.offline import AppliedView

__all__ = ["FeatureColumn", "StreamLag", "ViewRow", "age_text", "require_view", "view_rows"]


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


def require_view(store: FeatureStore, name: str) -> dict[str, AppliedView]:
    """The applied views (:class:`PageNotFound` when ``name`` is not one of them)."""
    views = store.applied_views()
    if name not in views:
        known = ", ".join(sorted(views)) or "none"
        raise PageNotFound(f"No feature view {name!r}; applied views: {known}.")
    return views


def view_rows(
    store: FeatureStore, views: dict[str, AppliedView], now: datetime, warnings: list[str]
) -> list[ViewRow]:
    """A row per view: its definition, the status ``cairn status`` prints (ages at ``now``),
    the lag of its stream; what cannot be read is said in ``warnings``."""
    from cairn.app.consistency import status

    marks = {s["view"]: s for s in status(store, now) if s["view"] in views}
    lags = _stream_lags(store, list(views.values()), warnings)
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
