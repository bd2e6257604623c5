"""Online/offline consistency: sampled keys read both ways must agree (DESIGN §3.1)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pandas as pd

from cairn.core.errors import DataError
from cairn.core.online import encode_key, partition_of
from cairn.core.timeutil import from_micros, utcnow
from cairn.features.source import is_stream
from cairn.offline.connection import connect, quote
from cairn.offline.sources import register_source

if TYPE_CHECKING:
    from cairn.app.feature_store import FeatureStore
    from cairn.features.feature_view import FeatureView


@dataclass
class ConsistencyReport:
    """Online reads vs the offline join at ``at``, per feature.

    Each sampled (key, feature) pair is one of: ``compared`` (a value on both sides; a
    mismatch when they differ), ``both_null`` (null on both sides: agreement, but nothing
    was compared) or ``one_sided`` (null on one side only: always a mismatch).
    ``mismatches`` counts differing compared values plus one-sided nulls.
    """

    view: str
    at: datetime
    keys: int
    mismatches: dict[str, int] = field(default_factory=dict)
    examples: list[dict[str, Any]] = field(default_factory=list)
    compared: dict[str, int] = field(default_factory=dict)
    both_null: dict[str, int] = field(default_factory=dict)
    one_sided: dict[str, int] = field(default_factory=dict)

    @property
    def values_compared(self) -> int:
        """Pairs with a value on both sides, over every feature."""
        return sum(self.compared.values())

    @property
    def ok(self) -> bool:
        """Whether every sampled key agreed on every feature AND some values were actually
        compared (all-null on both sides proves nothing)."""
        return not any(self.mismatches.values()) and self.values_compared > 0

    def verdict(self) -> str:
        """One line: what was compared and what disagreed.

        Example
        -------
        >>> from datetime import UTC
        >>> r = ConsistencyReport("v", datetime(2026, 1, 1, tzinfo=UTC), 2, {"a": 0},
        ...                       compared={"a": 0}, both_null={"a": 2}, one_sided={"a": 0})
        >>> r.ok, r.verdict()
        (False, 'nothing compared: 0 values on both sides, 2 null on both sides')
        """
        both, one = sum(self.both_null.values()), sum(self.one_sided.values())
        bad = sum(self.mismatches.values())
        if self.values_compared == 0 and not bad:
            return f"nothing compared: 0 values on both sides, {both} null on both sides"
        return (
            f"{bad} mismatches ({self.values_compared} values compared, {both} null on both "
            f"sides, {one} null on one side only)"
        )


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
    commits: list[datetime] = []
    if at is None and is_stream(view.source):
        commits = _stream_commits(store, view_name)
        at = min(commits)
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
    report = ConsistencyReport(view_name, at, len(keys))
    for feature in view.feature_names:
        for counts in (report.mismatches, report.compared, report.both_null, report.one_sided):
            counts[feature] = 0
    if len(commits) > 1:  # several processors: each key as of its own processor's commit
        partitions = store.stream_log(view.source.name).partitions
        owner = [
            partition_of(encode_key([r[k] for k in view.join_keys]), partitions) % len(commits)
            for r in rows
        ]
        for i, commit in enumerate(commits):
            picked = [j for j, o in enumerate(owner) if o == i]
            if picked:
                _compare(store, report, view, refs, keys.iloc[picked], commit)
    else:
        _compare(store, report, view, refs, keys, at)
    return report


def _compare(
    store: FeatureStore,
    report: ConsistencyReport,
    view: FeatureView,
    refs: list[str],
    keys: pd.DataFrame,
    at: datetime,
) -> None:
    """Add the comparison of ``keys`` online and offline at ``at`` to ``report``."""
    rows: list[dict[str, Any]] = [
        {str(k): v for k, v in row.items()} for row in keys.to_dict("records")
    ]
    if not rows:
        return
    online = store.get_online_features(refs, rows, at=at).to_dict()
    entities = keys.assign(event_timestamp=pd.Timestamp(at))
    offline = store.get_historical_features(entities, refs).to_df()
    for feature in view.feature_names:
        for i, (got, want) in enumerate(zip(online[feature], offline[feature], strict=True)):
            got_missing, want_missing = _missing(got), _missing(want)
            if got_missing and want_missing:
                report.both_null[feature] += 1
            elif got_missing or want_missing:
                report.one_sided[feature] += 1
            else:
                report.compared[feature] += 1
            if not _same(got, want):
                report.mismatches[feature] += 1
                if len(report.examples) < 10:
                    report.examples.append(
                        {**rows[i], "feature": feature, "online": got, "offline": want}
                    )


def _stream_commits(store: FeatureStore, view_name: str) -> list[datetime]:
    """A stream view's "watermark": each of its processors' last commit (what the tiles of
    its keys reflect)."""
    from cairn.core.online import StreamCommitter
    from cairn.streams.checkpoint import Checkpoint
    from cairn.streams.processor import processor_checkpoints

    source = store.get_feature_view(view_name).source
    online = store.online.store
    count = store.settings.streaming.processors
    applied = store.applied_views()[view_name].definition_hash
    checkpoints = (
        processor_checkpoints(online, store.project, source.name, count)
        if isinstance(online, StreamCommitter)
        else [Checkpoint()] * count
    )
    out = []
    for i, checkpoint in enumerate(checkpoints):
        which = "" if count == 1 else f" (processor {i} of {count})"
        if not checkpoint.commit_us:
            raise DataError(
                f"View {view_name!r} reads the stream {source.name!r}, which no processor"
                f"{which} has committed yet; run `cairn stream run` first."
            )
        live = checkpoint.view_hashes().get(view_name)
        if live != applied:  # online and offline would compare two definitions
            raise DataError(
                f"View {view_name!r} is served by definition {str(live)[:12]}{which} while "
                f"{applied[:12]} is applied and being backfilled; check it once "
                f"`cairn stream status` says current."
            )
        out.append(from_micros(checkpoint.commit_us))
    return out


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
    """Per applied view: kind, watermark (incremental runs), max event time, freshness (seconds
    behind now), the last run of any kind, and the newest explicit range run (``[start, end)``,
    rows written, when) — a range run never moves the watermark, so a view loaded only by ranges
    has data but no watermark."""
    now = now or utcnow()
    views = store.applied_views()
    states = store.online.states(views)

    def at(us: int | None) -> datetime | None:
        return None if us is None else from_micros(us)

    out = []
    for name, applied in views.items():
        state = states.get(name)
        watermark = at(state.watermark) if state else None
        span = state.last_range if state else None
        out.append(
            {
                "view": name,
                "kind": "windowed" if applied.view.is_windowed else "snapshot",
                "version": applied.version,
                "watermark": watermark,
                "max_event": at(state.max_event_us) if state else None,
                "freshness_seconds": None
                if watermark is None
                else (now - watermark).total_seconds(),
                "last_run": state.last_run if state else None,
                "last_range_start": at(span[0]) if span else None,
                "last_range_end": at(span[1]) if span else None,
                "last_range_rows": state.last_range_rows if state else None,
                "last_range_at": state.last_range_at if state else None,
            }
        )
    return out
