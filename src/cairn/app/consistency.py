"""Online/offline consistency: sampled keys read both ways must agree (DESIGN §3.1)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pandas as pd

from cairn.core.errors import DataError
from cairn.core.timeutil import from_micros, utcnow
from cairn.offline.connection import connect, quote
from cairn.offline.sources import register_source

if TYPE_CHECKING:
    from cairn.app.feature_store import FeatureStore
    from cairn.features.feature_view import FeatureView


@dataclass
class ConsistencyReport:
    """Mismatches per feature between online reads and the offline join at ``at``."""

    view: str
    at: datetime
    keys: int
    mismatches: dict[str, int] = field(default_factory=dict)
    examples: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every sampled key agreed on every feature."""
        return not any(self.mismatches.values())


def check_consistency(
    store: FeatureStore,
    view_name: str,
    sample: int = 100,
    at: datetime | None = None,
    seed: int = 0,
) -> ConsistencyReport:
    """Compare ``sample`` random keys of ``view_name`` online and offline.

    ``at`` defaults to the view's watermark (what the online store should reflect exactly);
    pass the current time to include materialization lag in the comparison.
    """
    view = store.get_feature_view(view_name)
    if at is None:
        mark = store.online.freshness({view_name: store.applied_views()[view_name]})[view_name]
        if mark["watermark"] is None:
            raise DataError(
                f"View {view_name!r} was never materialized into {store.online.store.url}; "
                f"run `cairn materialize-incremental` first."
            )
        at = from_micros(mark["watermark"])
    keys = _sample_keys(store, view, sample, seed)
    refs = [f"{view_name}:{f}" for f in view.feature_names]
    rows: list[dict[str, Any]] = [
        {str(k): v for k, v in row.items()} for row in keys.to_dict("records")
    ]
    online = store.get_online_features(refs, rows, at=at).to_dict()
    entities = keys.assign(event_timestamp=pd.Timestamp(at))
    offline = store.get_historical_features(entities, refs).to_df()
    report = ConsistencyReport(view_name, at, len(keys))
    for feature in view.feature_names:
        bad = 0
        for i, (got, want) in enumerate(zip(online[feature], offline[feature], strict=True)):
            if not _same(got, want):
                bad += 1
                if len(report.examples) < 10:
                    report.examples.append(
                        {**rows[i], "feature": feature, "online": got, "offline": want}
                    )
        report.mismatches[feature] = bad
    return report


def _sample_keys(store: FeatureStore, view: FeatureView, sample: int, seed: int) -> pd.DataFrame:
    con = connect(store.settings.offline, store.root)
    try:
        register_source(con, view.source, store.root, "__sample")
        keys = ", ".join(quote(k) for k in view.join_keys)
        not_null = " AND ".join(f"{quote(k)} IS NOT NULL" for k in view.join_keys)
        frame: pd.DataFrame = con.sql(
            f"SELECT {keys} FROM (SELECT DISTINCT {keys} FROM __sample WHERE {not_null}) "
            f"ORDER BY hash({keys}, {int(seed)}) LIMIT {int(sample)}"
        ).df()
    finally:
        con.close()
    return frame


def _missing(x: Any) -> bool:
    return x is None or (not isinstance(x, (str, bytes, list, dict)) and bool(pd.isna(x)))


def _same(a: Any, b: Any) -> bool:
    a_missing, b_missing = _missing(a), _missing(b)
    if a_missing or b_missing:
        return a_missing and b_missing
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, datetime) or isinstance(b, datetime):
        return bool(pd.Timestamp(a) == pd.Timestamp(b))
    return bool(a == b)


def status(store: FeatureStore, now: datetime | None = None) -> list[dict[str, Any]]:
    """Per applied view: kind, watermark, max event time, and freshness (seconds behind now)."""
    now = now or utcnow()
    views = store.applied_views()
    marks = store.online.freshness(views)
    out = []
    for name, applied in views.items():
        mark = marks[name]
        watermark = None if mark["watermark"] is None else from_micros(mark["watermark"])
        max_event = None if mark["max_event"] is None else from_micros(mark["max_event"])
        out.append(
            {
                "view": name,
                "kind": "windowed" if applied.view.is_windowed else "snapshot",
                "version": applied.version,
                "watermark": watermark,
                "max_event": max_event,
                "freshness_seconds": None
                if watermark is None
                else (now - watermark).total_seconds(),
            }
        )
    return out
