"""The stream/batch parity check shared by the in-process property and the broker tests.

A scenario is a list of steps; each step advances a simulated clock, produces some events
(late by up to hours, ahead by up to a minute, nulls, ties), runs one processor batch (or
"crashes" the processor at a chosen point and starts a new one), then reads every key online
at a time at or after the last commit and compares it with the batch engine over the landed
events at the same time.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from cairn import Aggregation, Entity, FeatureStore, FeatureView
from cairn.app.streaming import open_processor
from cairn.features.stream_source import StreamSource
from cairn.streams import landing
from cairn.streams.processor import StreamProcessor

BASE = 1_800_000_000_000_000  # 2027-01-15, µs
AGGREGATIONS = [
    Aggregation("amount", "sum", "10m", hop="1m"),
    Aggregation("amount", "count", "1h"),
    Aggregation("amount", "mean", "30m", hop="0s"),
    Aggregation("amount", "last", "2h", hop="10m"),
    Aggregation("amount", "std", "1h", hop="5m"),
    Aggregation("amount", "max", "20m", hop="0s"),
]
FEATURES = [f"velocity:{a.name}" for a in AGGREGATIONS]


@dataclass
class Step:
    advance_s: int
    events: list[tuple[int, int, float | None]]
    """(customer, event time offset from the clock in µs, amount)."""
    crash: str | None = None
    """None, "before_commit" (staged, never committed) or "before_publish" (committed,
    never published)."""
    read_offset_us: int = 0


@dataclass
class Outcome:
    checks: int = 0
    mismatches: list[str] = field(default_factory=list)


class _Crash(Exception):
    pass


def apply_view(store: FeatureStore, source: StreamSource) -> FeatureView:
    view = FeatureView(
        name="velocity",
        entities=[Entity(name="customer", join_keys=["customer_id"])],
        source=source,
        aggregations=AGGREGATIONS,
    )
    store.apply([view])
    return view


def run_scenario(
    store: FeatureStore,
    steps: list[Step],
    keys: int,
    monkeypatch: Any,
    make: Callable[[Callable[[], int]], StreamProcessor] | None = None,
) -> Outcome:
    clock = [BASE]

    def build() -> StreamProcessor:
        p = (
            make(lambda: clock[0])
            if make
            else open_processor(store, "txns", clock=lambda: clock[0])
        )
        p.start()
        return p

    processor = build()
    out = Outcome()
    for step in steps:
        clock[0] += step.advance_s * 1_000_000
        if step.events:
            rows = [
                {
                    "customer_id": k,
                    "event_timestamp": pd.Timestamp(clock[0] + off, unit="us", tz="UTC"),
                    "amount": amount,
                }
                for k, off, amount in step.events
            ]
            store.produce("txns", rows)
        if step.crash is not None:
            _crash(processor, step.crash, monkeypatch)
            processor.log.close()
            processor = build()  # a new process: checkpoint, repair, held events
        processor.step()
        at = max(clock[0], processor.checkpoint.commit_us) + step.read_offset_us
        _compare(store, at, keys, out)
    processor.log.close()
    return out


def _crash(processor: StreamProcessor, point: str, monkeypatch: Any) -> None:
    target = processor.store if point == "before_commit" else landing
    # the processor commits through commit_stream_encoded where the store has it
    names = ["commit_stream", "commit_stream_encoded"] if point == "before_commit" else ["publish"]

    def boom(*args: Any, **kwargs: Any) -> None:
        raise _Crash(point)

    with monkeypatch.context() as m:
        for name in names:
            if hasattr(target, name):
                m.setattr(target, name, boom)
        try:
            processor.step()
        except _Crash:
            pass


def _compare(store: FeatureStore, at_us: int, keys: int, out: Outcome) -> None:
    folder = store.root / "data" / "streams" / "txns"
    if not any(folder.glob("*.parquet")):
        return
    at = datetime.fromtimestamp(at_us / 1e6, tz=UTC).replace(microsecond=at_us % 1_000_000)
    ids = list(range(keys))
    online = store.get_online_features(FEATURES, [{"customer_id": k} for k in ids], at=at).to_df()
    batch = store.get_historical_features(
        pd.DataFrame({"customer_id": ids, "event_timestamp": [at] * len(ids)}), FEATURES
    ).to_df()
    for agg in AGGREGATIONS:
        for k, a, b in zip(ids, online[agg.name], batch[agg.name], strict=True):
            out.checks += 1
            if not _same(a, b):
                out.mismatches.append(f"{agg.name} key {k} at {at_us}: online {a!r} batch {b!r}")


def _same(a: Any, b: Any) -> bool:
    if _missing(a) or _missing(b):
        return _missing(a) and _missing(b)
    return bool(math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12))


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA


def landed_offsets(root: Path) -> int:
    """Rows landed in the batch source."""
    import pyarrow.parquet as pq

    folder = root / "data" / "streams" / "txns"
    return sum(pq.read_metadata(f).num_rows for f in folder.glob("*.parquet"))
