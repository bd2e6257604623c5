"""Aggregation: a windowed feature computed from a source column (one definition, run in
batch, streaming and online alike)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from cairn.core.errors import DefinitionError
from cairn.core.timeutil import format_duration, parse_duration
from cairn.core.types import Micros
from cairn.features._names import check_name
from cairn.features.aggregates import get_function

_MINUTE = 60_000_000
_HOUR = 60 * _MINUTE
_DAY = 24 * _HOUR


def default_hop(window: Micros) -> Micros:
    """5 minutes for windows under 12 h, 1 hour up to 12 days, 1 day beyond.

    Example
    -------
    >>> [format_duration(default_hop(parse_duration(w))) for w in ("1h", "24h", "30d")]
    ['5m', '1h', '24h']
    """
    if window < 12 * _HOUR:
        return 5 * _MINUTE
    if window <= 12 * _DAY:
        return _HOUR
    return _DAY


@dataclass(frozen=True)
class Aggregation:
    """A windowed aggregate of one source column.

    The value at ``t`` covers events with ``floor(t, hop) - window <= event_ts < t`` that were
    known by ``t`` (sawtooth windows; ``hop=0`` slides exactly).

    Parameters
    ----------
    column:
        Source column to aggregate.
    function:
        One of count, sum, mean, min, max, last, std, var.
    window:
        Window length: a timedelta or a string like ``"24h"``, ``"7d"``.
    hop:
        Tile size; ``None`` picks the default for the window, ``0`` means exact sliding.
        The window must be a whole number of hops.
    name:
        Feature name; defaults to ``{column}_{function}_{window}``.

    Example
    -------
    >>> a = Aggregation(column="amount", function="sum", window=timedelta(hours=24))
    >>> a.name, a.window, a.hop
    ('amount_sum_24h', '24h', '1h')
    """

    column: str
    function: str
    window: timedelta | str
    hop: timedelta | str | None = None
    name: str = ""

    def __post_init__(self) -> None:
        check_name(self.column, "Aggregation.column")
        get_function(self.function)
        window = parse_duration(
            self.window, owner=f"Aggregation {self.column}/{self.function} window"
        )
        if window <= 0:
            raise DefinitionError(
                f"Aggregation {self.column}/{self.function} window must be positive; "
                f"got {self.window!r}."
            )
        hop = (
            default_hop(window)
            if self.hop is None
            else parse_duration(self.hop, owner=f"Aggregation {self.column}/{self.function} hop")
        )
        if hop < 0 or (hop > 0 and window % hop != 0):
            raise DefinitionError(
                f"Aggregation {self.column}/{self.function} hop must be 0 (exact) or divide the "
                f"window {format_duration(window)} evenly; got {format_duration(hop)}."
            )
        spelled = self.window.strip() if isinstance(self.window, str) else format_duration(window)
        object.__setattr__(self, "window", spelled)
        object.__setattr__(self, "hop", format_duration(hop))
        name = self.name or f"{self.column}_{self.function}_{spelled}"
        object.__setattr__(self, "name", check_name(name, "Aggregation.name"))

    @property
    def window_us(self) -> Micros:
        """Window length in microseconds."""
        return parse_duration(self.window)

    @property
    def hop_us(self) -> Micros:
        """Hop (tile) length in microseconds; 0 for exact sliding windows."""
        return parse_duration(self.hop)  # type: ignore[arg-type]

    def to_spec(self) -> dict[str, Any]:
        """A JSON-ready description of this aggregation."""
        return {
            "column": self.column,
            "function": self.function,
            "window": self.window,
            "hop": self.hop,
            "name": self.name,
        }

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> Aggregation:
        """Rebuild an aggregation from ``to_spec`` output."""
        return cls(
            column=spec["column"],
            function=spec["function"],
            window=spec["window"],
            hop=spec["hop"],
            name=spec["name"],
        )
