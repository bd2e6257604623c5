"""Results: health score, JSON round trip, and failure descriptions."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from cairn.quality import (
    Check,
    Dimension,
    Severity,
    Suite,
    ValidationResult,
    health_score,
    validate,
)
from cairn.quality.results import jsonable


def test_health_score_weights_by_severity_and_averages_dimensions() -> None:
    h = health_score(
        [
            (Dimension.COMPLETENESS, Severity.CRITICAL, 1.0),
            (Dimension.COMPLETENESS, Severity.LOW, 0.5),
            (Dimension.VALIDITY, Severity.HIGH, 0.0),
        ]
    )
    assert h.dimensions[Dimension.COMPLETENESS] == pytest.approx(100 * 4.5 / 5)
    assert h.dimensions[Dimension.VALIDITY] == 0.0 and h.dimensions[Dimension.TIMELINESS] is None
    assert h.score == pytest.approx((90 + 0) / 2)
    assert health_score([]).score is None


def test_health_of_a_run_uses_the_passing_share_of_row_checks() -> None:
    frame = pd.DataFrame({"x": [1.0, None, 3.0, 4.0], "t": pd.Timestamp("2026-01-01", tz="UTC")})
    suite = Suite(
        "s",
        [
            Check("expect_column_values_to_not_be_null", {"column": "x"}),
            Check("expect_column_mean_to_be_between", {"column": "x", "min_value": 100}),
            Check("expect_data_to_be_fresh", {"column": "t", "max_age": "1d"}),
        ],
    )
    now = datetime(2026, 1, 1, 12, tzinfo=UTC)
    health = validate(suite, frame, now=now).health
    assert health.dimensions[Dimension.COMPLETENESS] == 75.0
    assert health.dimensions[Dimension.VALIDITY] == 0.0
    assert health.dimensions[Dimension.TIMELINESS] == 100.0
    assert health.score == pytest.approx((75 + 0 + 100) / 3, abs=0.01)


def test_results_round_trip_through_json() -> None:
    frame = pd.DataFrame(
        {"x": [1.5, -2.0], "t": pd.to_datetime(["2026-01-01", "2026-01-02"], utc=True)}
    )
    suite = Suite(
        "s",
        [
            Check("expect_column_values_to_be_between", {"column": "x", "min_value": 0}),
            Check(
                "expect_column_values_to_be_between",
                {"column": "t", "max_value": "2026-01-01T12:00:00+00:00"},
            ),
            Check(
                "expect_column_quantile_values_to_be_between",
                {
                    "column": "x",
                    "quantile_ranges": {"quantiles": [0.5], "value_ranges": [[0, None]]},
                },
            ),
        ],
    )
    result = validate(suite, frame)
    again = ValidationResult.from_dict(json.loads(result.to_json()))
    assert again.to_dict() == json.loads(result.to_json())
    assert again.verdict == "failed" and again.checks[1].failing_rows[0]["values"]["t"].startswith(
        "2026-01-02"
    )
    text = result.describe_failures()
    assert "#1 expect_column_values_to_be_between (x) [high]: 1 unexpected (50.00%)" in text
    assert "#3 expect_column_quantile_values_to_be_between (x) [medium]: observed" in text


def test_jsonable() -> None:
    value = {
        "d": datetime(2026, 1, 1, tzinfo=UTC),
        "n": np.int64(3),
        "f": float("nan"),
        "m": Decimal("1.5"),
        "b": b"\x01",
    }
    assert jsonable(value) == {
        "d": "2026-01-01T00:00:00+00:00",
        "n": 3,
        "f": None,
        "m": 1.5,
        "b": "01",
    }
