"""Segment dimensions: accepted forms, rejected ones, and capping to the largest segments."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import pandas as pd
import pytest

from cairn.core.errors import ConfigError
from cairn.experiments.aggregate import sufficient_statistics
from cairn.experiments.metrics import BUILTIN_METRICS
from cairn.experiments.segments import MISSING, OTHER, Dimension

UTC_US = "datetime64[us, UTC]"
COLUMNS = ["arm", "strategy", "features", "entity", "label"]


@pytest.mark.parametrize(
    ("text", "name"),
    [("strategy", "strategy"), ("features->>'region'", "features.region"),
     (" entity ->> 'customer_id' ", "entity.customer_id")],
)  # fmt: skip
def test_accepted_dimensions(text: str, name: str) -> None:
    assert Dimension.parse(text, COLUMNS).name == name


@pytest.mark.parametrize(
    "text", ["nope", "label", "features->>'a'; DROP TABLE x", "features->'a'", "score + 1", ""]
)
def test_rejected_dimensions(text: str) -> None:
    with pytest.raises(ConfigError, match="Segment|segment"):
        Dimension.parse(text, COLUMNS)


def test_max_segments_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="max_segments"):
        Dimension.parse("arm", COLUMNS, max_segments=0)


def test_largest_segments_kept_rest_pooled_missing_kept() -> None:
    sizes = {"a": 30, "b": 20, "c": 5, "d": 3, None: 25}
    regions = [k for k, n in sizes.items() for _ in range(n)]
    n = len(regions)
    pred = pd.DataFrame({
        "prediction_id": [f"p{i}" for i in range(n)],
        "time": pd.Series(pd.to_datetime(["2026-03-02"] * n, utc=True)).astype(UTC_US),
        "deployment": "credit", "strategy": "ab", "arm": ["x", "y"] * (n // 2) + ["x"] * (n % 2),
        "unit_id": [f"u{i}" for i in range(n)], "decision": "approve", "score": 0.1,
        "entity": "{}",
        "features": ['{"region": null}' if r is None else f'{{"region": "{r}"}}' for r in regions],
    })  # fmt: skip
    con = duckdb.connect()
    con.register("predictions", pred)
    con.execute(
        "CREATE VIEW outcomes AS SELECT NULL::VARCHAR AS prediction_id, NULL::VARCHAR AS entity, "
        "NULL::TIMESTAMPTZ AS event_time, NULL::VARCHAR AS deployment, NULL::DOUBLE AS label, "
        "NULL::TIMESTAMPTZ AS observed_at WHERE FALSE"
    )
    dim = Dimension.parse("features->>'region'", list(pred.columns), max_segments=3)
    stats = sufficient_statistics(
        con, "credit", [BUILTIN_METRICS["approval_rate"]], dimension=dim,
        start=datetime(2026, 3, 1, tzinfo=UTC), as_of=datetime(2026, 4, 1, tzinfo=UTC),
    )  # fmt: skip
    units: dict[str, int] = {}
    for s in stats.segments:
        units[s.segment or ""] = units.get(s.segment or "", 0) + s.units
    assert units == {"a": 30, MISSING: 25, "b": 20, OTHER: 8}
