"""Cron schedules: weekday numbering (0 and 7 are Sunday, 1 is Monday), names, time zones and
daylight-saving transitions, and each slot exactly once."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cairn.core.errors import ConfigError
from cairn.retraining.schedule import Schedule

# 2026-03-01 is a Sunday; 2026-03-02 a Monday.
SUNDAY = datetime(2026, 3, 1, tzinfo=UTC)


def _day(t: datetime) -> str:
    return t.strftime("%a %Y-%m-%d %H:%M")


@pytest.mark.parametrize(
    ("dow", "expected"),
    [
        ("0", "Sun 2026-03-01 06:00"),
        ("7", "Sun 2026-03-01 06:00"),
        ("1", "Mon 2026-03-02 06:00"),
        ("5", "Fri 2026-03-06 06:00"),
        ("6", "Sat 2026-03-07 06:00"),
        ("SUN", "Sun 2026-03-01 06:00"),
        ("mon", "Mon 2026-03-02 06:00"),
        ("Sat", "Sat 2026-03-07 06:00"),
    ],
)
def test_weekday_numbers_and_names_follow_cron(dow: str, expected: str) -> None:
    assert _day(Schedule(f"0 6 * * {dow}").next_after(SUNDAY)) == expected


def test_weekday_ranges_by_name_and_number_agree() -> None:
    start, end = SUNDAY, SUNDAY + timedelta(days=14)
    by_name = Schedule("0 6 * * MON-FRI").slots(start, end)
    assert by_name == Schedule("0 6 * * 1-5").slots(start, end)
    assert [t.strftime("%a") for t in by_name] == ["Mon", "Tue", "Wed", "Thu", "Fri"] * 2
    weekend = Schedule("0 6 * * SAT,SUN").slots(start, end)
    assert weekend == Schedule("0 6 * * 6,0").slots(start, end)
    assert weekend == Schedule("0 6 * * 6,7").slots(start, end)


def test_the_zone_moves_the_slot() -> None:
    paris = Schedule("0 6 * * MON", timezone="Europe/Paris")
    assert paris.next_after(SUNDAY).isoformat() == "2026-03-02T05:00:00+00:00"  # CET
    assert paris.next_after(datetime(2026, 6, 1, 6, tzinfo=UTC)).isoformat() == (
        "2026-06-08T04:00:00+00:00"  # CEST
    )


def test_a_slot_in_the_skipped_hour_fires_once_one_gap_later() -> None:
    daily = Schedule("30 2 * * *", timezone="Europe/Berlin")  # 2026-03-29 02:00 -> 03:00
    slots = daily.slots(datetime(2026, 3, 27, tzinfo=UTC), datetime(2026, 3, 31, tzinfo=UTC))
    assert [t.isoformat() for t in slots] == [
        "2026-03-27T01:30:00+00:00",
        "2026-03-28T01:30:00+00:00",
        "2026-03-29T01:30:00+00:00",  # 03:30 CEST: 02:30 did not exist
        "2026-03-30T00:30:00+00:00",
    ]
    hourly = Schedule("0 * * * *", timezone="Europe/Berlin")
    day = hourly.slots(datetime(2026, 3, 28, 23, tzinfo=UTC), datetime(2026, 3, 29, 22, tzinfo=UTC))
    assert len(day) == 23 and len(set(day)) == 23  # the local day has 23 hours, each once


def test_a_slot_in_the_repeated_hour_fires_at_its_first_occurrence_only() -> None:
    daily = Schedule("30 2 * * *", timezone="Europe/Berlin")  # 2026-10-25 03:00 -> 02:00
    slots = daily.slots(datetime(2026, 10, 24, 12, tzinfo=UTC), datetime(2026, 10, 26, tzinfo=UTC))
    assert [t.isoformat() for t in slots] == ["2026-10-25T00:30:00+00:00"]  # 02:30 CEST
    new_york = Schedule("30 1 * * *", timezone="America/New_York")  # 2026-11-01 02:00 -> 01:00
    slots = new_york.slots(
        datetime(2026, 10, 31, 12, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC)
    )
    assert [t.isoformat() for t in slots] == ["2026-11-01T05:30:00+00:00"]  # 01:30 EDT


def test_next_after_and_latest_around_a_transition() -> None:
    hourly = Schedule("0 * * * *", timezone="Europe/Berlin")
    before = datetime(2026, 3, 29, 0, 45, tzinfo=UTC)  # 01:45 CET
    assert hourly.next_after(before).isoformat() == "2026-03-29T01:00:00+00:00"  # 03:00 CEST
    assert hourly.latest(before) == datetime(2026, 3, 29, 0, tzinfo=UTC)
    assert hourly.latest(datetime(2026, 3, 29, 1, tzinfo=UTC)) == datetime(
        2026, 3, 29, 1, tzinfo=UTC
    )


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    cron=st.sampled_from(
        ["0 * * * *", "*/20 * * * *", "30 2 * * *", "0 6 * * MON-FRI", "15 1 * * 0"]
    ),
    zone=st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe"]),
    start=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 1)),
    cuts=st.lists(st.integers(min_value=1, max_value=36 * 60), min_size=1, max_size=8),
)
def test_consecutive_intervals_see_each_slot_once(
    cron: str, zone: str, start: datetime, cuts: list[int]
) -> None:
    s = Schedule(cron, timezone=zone)
    t0 = start.replace(tzinfo=UTC)
    points = [t0]
    for minutes in cuts:
        points.append(points[-1] + timedelta(minutes=minutes))
    pieces = [u for a, b in itertools.pairwise(points) for u in s.slots(a, b)]
    assert pieces == s.slots(points[0], points[-1])  # no slot twice, none lost, in order
    assert len(set(pieces)) == len(pieces)
    for u in pieces:
        assert s.next_after(u - timedelta(microseconds=1)) == u
        assert s.latest(u) == u


@pytest.mark.parametrize(
    ("cron", "zone", "text"),
    [
        ("0 6 * * 8", "UTC", "got '0 6 * * 8' (out of range)"),
        ("0 6 * *", "UTC", "cron must be a cron expression of five fields"),
        ("0 0 6 * * 1", "UTC", "got '0 0 6 * * 1'"),
        ("0 6 * * 1", "Mars/Olympus", "timezone must be an IANA time zone"),
    ],
)
def test_a_bad_expression_or_zone_is_one_clear_error(cron: str, zone: str, text: str) -> None:
    with pytest.raises(ConfigError, match=r".*") as caught:
        Schedule(cron, timezone=zone)
    assert text in str(caught.value) and "\n" not in str(caught.value)


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="time-zone-aware"):
        Schedule("@daily").next_after(datetime(2026, 1, 1))
