"""Durations and UTC timestamps: parsing, formatting and microsecond arithmetic."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from cairn.core.errors import DefinitionError
from cairn.core.types import Micros

_UNITS = {
    "us": 1,
    "ms": 1_000,
    "s": 1_000_000,
    "m": 60_000_000,
    "min": 60_000_000,
    "h": 3_600_000_000,
    "d": 86_400_000_000,
    "w": 604_800_000_000,
}
DURATION_PATTERN = r"^\s*(\d+)\s*(us|ms|s|min|m|h|d|w)\s*$"
"""A duration as text: whole units of us, ms, s, min/m, h, d or w (``90d``)."""
_DURATION = re.compile(DURATION_PATTERN)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse_duration(value: timedelta | str | int, *, owner: str = "duration") -> Micros:
    """Return a duration in microseconds from a timedelta, a string like ``"24h"``, or seconds.

    Example
    -------
    >>> parse_duration("24h") == 24 * 3600 * 1_000_000
    True
    >>> parse_duration(timedelta(minutes=5))
    300000000
    """
    if isinstance(value, timedelta):
        return (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
    if isinstance(value, bool):
        raise DefinitionError(f"{owner} must be a timedelta or a string like '24h'; got {value!r}.")
    if isinstance(value, int):
        return value * 1_000_000
    if isinstance(value, str):
        m = _DURATION.match(value)
        if m:
            return int(m.group(1)) * _UNITS[m.group(2)]
    raise DefinitionError(
        f"{owner} must be a timedelta or a string like '30s', '5m', '24h', '7d'; got {value!r}."
    )


def format_duration(us: Micros) -> str:
    """A readable exact name of a duration: days from two days up, else hours, minutes...

    Example
    -------
    >>> [format_duration(parse_duration(d)) for d in ("7d", "24h", "90m", "48h", "0s")]
    ['7d', '24h', '90m', '2d', '0s']
    """
    if us == 0:
        return "0s"
    if us % _UNITS["d"] == 0 and us >= 2 * _UNITS["d"]:
        return f"{us // _UNITS['d']}d"
    for unit in ("h", "m", "s", "ms"):
        if us % _UNITS[unit] == 0:
            return f"{us // _UNITS[unit]}{unit}"
    return f"{us}us"


def to_micros(ts: datetime, *, owner: str = "timestamp") -> Micros:
    """Microseconds since the epoch of a timezone-aware datetime; naive input is rejected."""
    if ts.tzinfo is None or ts.tzinfo.utcoffset(ts) is None:
        raise DefinitionError(
            f"{owner} must be timezone-aware (for example datetime(..., tzinfo=timezone.utc)); "
            f"got the naive datetime {ts.isoformat()}."
        )
    return parse_duration(ts - EPOCH)


def from_micros(us: Micros) -> datetime:
    """The UTC datetime of ``us`` microseconds since the epoch."""
    return EPOCH + timedelta(microseconds=us)


def floor_micros(ts: Micros, step: Micros) -> Micros:
    """``ts`` rounded down to a multiple of ``step`` (``step == 0`` leaves it unchanged)."""
    return ts if step == 0 else ts - ts % step


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)
