from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cairn.core.errors import DefinitionError
from cairn.core.timeutil import format_duration, from_micros, parse_duration, to_micros


@pytest.mark.parametrize(
    ("text", "micros"),
    [
        ("5m", 300_000_000),
        ("24h", 86_400_000_000),
        ("7d", 604_800_000_000),
        ("1w", 604_800_000_000),
        ("30s", 30_000_000),
        ("250ms", 250_000),
        ("0s", 0),
    ],
)
def test_parse_duration(text: str, micros: int) -> None:
    assert parse_duration(text) == micros


@pytest.mark.parametrize("bad", ["", "5", "h", "-5m", "5 hours", True, 1.5])
def test_parse_duration_rejects(bad: object) -> None:
    with pytest.raises(DefinitionError, match="window"):
        parse_duration(bad, owner="window")  # type: ignore[arg-type]


@settings(derandomize=True, max_examples=200)
@given(st.integers(min_value=0, max_value=10**13))
def test_format_round_trips(us: int) -> None:
    assert parse_duration(format_duration(us)) == us


def test_naive_datetime_rejected() -> None:
    with pytest.raises(DefinitionError, match="timezone-aware"):
        to_micros(datetime(2026, 1, 1))


def test_micros_round_trip() -> None:
    ts = datetime(2026, 3, 1, 12, 30, 1, 5, tzinfo=UTC)
    assert from_micros(to_micros(ts)) == ts
    assert parse_duration(timedelta(days=1, microseconds=3)) == 86_400_000_003
