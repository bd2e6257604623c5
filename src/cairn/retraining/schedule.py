"""A retraining schedule: a cron expression read in a time zone, and its slots.

The expression has the five classic fields (minute, hour, day of month, month, day of week) or
one of ``@hourly``, ``@daily``, ``@weekly``, ``@monthly``, ``@yearly``; it is parsed by
croniter. Day-of-week numbers follow cron(8): ``0`` and ``7`` are Sunday, ``1`` is Monday
(APScheduler 3.x's ``from_crontab`` reads ``0`` as Monday); names (``MON-FRI``, ``sun``) are
accepted too.

A **slot** is a wall-clock time of the zone that matches the expression, as an instant. Each
slot fires once, whatever daylight-saving time does:

* a slot in the hour that a spring-forward skips (02:30 when clocks jump 02:00 -> 03:00) fires
  as if the clocks had not changed yet, one gap later on the new clock (03:30); when that is
  also a slot of its own, the two are one slot;
* a slot in the hour a fall-back repeats (02:30 twice) fires at its first occurrence only.

:meth:`Schedule.slots` gives the slots in ``(start, end]``: half-open, so consecutive
evaluations over ``(t0, t1]``, ``(t1, t2]``... see every slot exactly once.

Example
-------
>>> from datetime import UTC, datetime
>>> s = Schedule("0 6 * * MON-FRI", timezone="Europe/Paris")
>>> s.next_after(datetime(2026, 3, 6, 12, tzinfo=UTC)).isoformat()  # Friday -> Monday 06:00 CET
'2026-03-09T05:00:00+00:00'
>>> [t.isoformat() for t in s.slots(datetime(2026, 3, 9, 5, tzinfo=UTC),
...                                  datetime(2026, 3, 10, 5, tzinfo=UTC))]
['2026-03-10T05:00:00+00:00']
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from cairn.core.errors import ConfigError

__all__ = ["ALIASES", "Schedule", "check_cron", "check_timezone"]

ALIASES = ("@hourly", "@daily", "@weekly", "@monthly", "@yearly", "@annually")
"""The cron shorthands accepted besides five fields."""
CRON_TEXT = (
    "a cron expression of five fields (minute hour day-of-month month day-of-week, e.g. "
    "'0 6 * * MON-FRI') or one of " + ", ".join(ALIASES)
)
# A wall-clock time maps to an instant at most this far from its naive reading: more than any
# daylight-saving shift (usually 1 h; 30 min on Lord Howe; 2 h in a few historical zones).
_MARGIN = timedelta(hours=3)


def check_cron(expression: str) -> str:
    """``expression`` stripped, if croniter reads it as a five-field expression or an alias;
    else a :class:`ConfigError` saying what is expected.

    Example
    -------
    >>> check_cron(" 0 6 * * 1 ")
    '0 6 * * 1'
    >>> check_cron("0 6 * * 8")
    Traceback (most recent call last):
    ...
    cairn.core.errors.ConfigError: cron must be a cron expression of five fields (minute hour day-of-month month day-of-week, e.g. '0 6 * * MON-FRI') or one of @hourly, @daily, @weekly, @monthly, @yearly, @annually; got '0 6 * * 8' (out of range).
    """  # noqa: E501
    from croniter import croniter

    text = " ".join(str(expression).split())
    if text.lower() not in ALIASES and len(text.split(" ")) != 5:
        raise ConfigError(f"cron must be {CRON_TEXT}; got {expression!r}.")
    try:
        croniter(text, datetime(2000, 1, 1))
    except (ValueError, KeyError, TypeError) as exc:
        why = str(exc).rsplit("]", 1)[-1].strip(" ,.").removeprefix("is not acceptable, ")
        why = why or "not valid"
        raise ConfigError(f"cron must be {CRON_TEXT}; got {expression!r} ({why}).") from None
    return text


def check_timezone(name: str) -> str:
    """``name`` if it is an IANA time zone (``Europe/Paris``, ``UTC``); else a
    :class:`ConfigError`.

    Example
    -------
    >>> check_timezone("Europe/Paris")
    'Europe/Paris'
    """
    try:
        ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        hint = _close_zone(str(name))
        raise ConfigError(
            f"timezone must be an IANA time zone such as UTC or Europe/Paris; got {name!r}"
            f"{f' (did you mean {hint!r}?)' if hint else ''}."
        ) from None
    return str(name)


@dataclass(frozen=True)
class Schedule:
    """A cron expression in a time zone.

    Parameters
    ----------
    cron:
        Five fields or an alias (see the module); checked when the schedule is made.
    timezone:
        The IANA zone the fields are read in (default ``UTC``).

    Example
    -------
    >>> from datetime import UTC, datetime
    >>> Schedule("0 6 * * 0").next_after(datetime(2026, 3, 1, tzinfo=UTC)).strftime("%a %H:%M")
    'Sun 06:00'
    """

    cron: str
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        object.__setattr__(self, "cron", check_cron(self.cron))
        check_timezone(self.timezone)

    @property
    def zone(self) -> ZoneInfo:
        """The time zone as a :class:`~zoneinfo.ZoneInfo`."""
        return ZoneInfo(self.timezone)

    def next_after(self, t: datetime) -> datetime:
        """The first slot strictly after ``t`` (an aware datetime), in UTC."""
        return min(u for u in self._instants(t, forward=True) if u > _aware(t))

    def latest(self, t: datetime) -> datetime | None:
        """The last slot at or before ``t``, in UTC (None: the expression never matched
        before, which only a far past ``t`` can give)."""
        found = [u for u in self._instants(t, forward=False) if u <= _aware(t)]
        return max(found) if found else None

    def slots(self, start: datetime, end: datetime) -> list[datetime]:
        """The slots in ``(start, end]``, oldest first, in UTC, each once."""
        lo, hi = _aware(start), _aware(end)
        out: set[datetime] = set()
        for naive in self._naive(self._wall(lo) - _MARGIN, forward=True):
            if naive > self._wall(hi) + _MARGIN:
                break
            instant = self._instant(naive)
            if lo < instant <= hi:
                out.add(instant)
        return sorted(out)

    # -- internals ---------------------------------------------------------------------------

    def _wall(self, t: datetime) -> datetime:
        """The naive wall-clock reading of ``t`` in the zone."""
        return t.astimezone(self.zone).replace(tzinfo=None)

    def _instant(self, naive: datetime) -> datetime:
        # fold=0: a repeated wall time is its first occurrence; a skipped one reads with the
        # offset before the jump (PEP 495), so it lands one gap later on the new clock
        return naive.replace(tzinfo=self.zone, fold=0).astimezone(UTC)

    def _naive(self, start: datetime, *, forward: bool) -> Iterator[datetime]:
        from croniter import croniter

        it: Any = croniter(self.cron, start)
        step = it.get_next if forward else it.get_prev
        while True:
            yield step(datetime)

    def _instants(self, t: datetime, *, forward: bool) -> Iterator[datetime]:
        """Instants of slots near the first one past ``t`` in the given direction: every
        candidate whose wall time is within the margin of the first match found."""
        wall = self._wall(_aware(t))
        start = wall - _MARGIN if forward else wall + _MARGIN
        first: datetime | None = None
        for naive in self._naive(start, forward=forward):
            if first is not None and abs(naive - first) > 2 * _MARGIN:
                return
            instant = self._instant(naive)
            if (instant > _aware(t)) if forward else (instant <= _aware(t)):
                first = first or naive
                yield instant


def _aware(t: datetime) -> datetime:
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"a schedule needs a time-zone-aware datetime; got {t.isoformat()}.")
    return t.astimezone(UTC)


def _close_zone(name: str) -> str | None:
    lowered = name.lower().replace(" ", "_")
    for zone in sorted(_zones()):
        if zone.lower() == lowered or zone.lower().endswith("/" + lowered):
            return zone
    return None


@functools.cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())
