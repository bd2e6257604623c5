"""The dashboard's charts, drawn with the reports' geometry (:mod:`cairn.core.charts`) and
macros (``_macros.html``): every chart is inline SVG computed here in Python, and every page
prints the numbers behind it in a table next to it.

Example
-------
>>> chart = requests_chart([("credit", 120), ("outreach", 30)])
>>> [b.title for b in chart.bars]
['credit: requests 120', 'outreach: requests 30']
>>> alias_timeline([]) is None
True
>>> health_trend([]) is None
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from cairn.core.charts import BarChart, LineChart, grouped_bars, line_chart
from cairn.core.render import minute
from cairn.core.timeutil import from_micros, to_micros

if TYPE_CHECKING:
    from cairn.quality.store import RunSummary
    from cairn.registry.aliases import AliasMove

__all__ = [
    "ALIAS_COLORS",
    "ARM_COLORS",
    "alias_timeline",
    "arm_traffic_chart",
    "health_trend",
    "requests_chart",
    "second",
]

ALIAS_COLORS = {"champion": "#1a7f37", "challenger": "#0969da", "fallback": "#9a6700"}
"""Each alias's colour on the time line (others are grey)."""
ARM_COLORS = ("#1a7f37", "#0969da", "#9a6700", "#8250df", "#cf222e")
"""The arms' colours, in the order of their names."""


def requests_chart(counts: Sequence[tuple[str, int]]) -> BarChart:
    """Bars of the predictions per deployment (``(deployment, count)``)."""
    return grouped_bars(
        [name for name, _ in counts],
        [("requests", "#0969da", [float(n) for _, n in counts])],
        width=480,
        spec=".0f",
    )


def alias_timeline(moves: Sequence[AliasMove]) -> LineChart | None:
    """Each alias's version over time: one step line per alias, a dot per move (None when
    no alias ever pointed at a numbered version)."""
    series: dict[str, list[tuple[int, float]]] = {}
    for move in moves:
        if move.version is None or not move.version.isdigit():
            continue
        series.setdefault(move.alias, []).append((to_micros(move.at), float(move.version)))
    if not series:
        return None
    top = max(v for points in series.values() for _, v in points) + 1
    return line_chart(
        [(alias, ALIAS_COLORS.get(alias, "#57606a"), points) for alias, points in series.items()],
        top=top,
        x_text=minute,
        title=lambda alias, x, y: f"{alias} -> v{y:.0f} · {minute(x)}",
        width=640,
    )


def health_trend(runs: Sequence[RunSummary]) -> LineChart | None:
    """The health score (0 to 100) of a suite's runs over their start times, a dot per run
    (None when no run has a score: a suite without checks)."""
    points = sorted((to_micros(r.started_at), r.health) for r in runs if r.health is not None)
    if not points:
        return None
    return line_chart(
        [("health", "#1a7f37", [(x, float(y)) for x, y in points])],
        top=100.0,
        x_text=minute,
        title=lambda _, x, y: f"health {y:.2f} · {minute(x)}",
        width=640,
    )


def second(micros: int) -> str:
    """µs since the epoch as ``YYYY-MM-DD HH:MM:SS`` (UTC): a rollout's slices may be short.

    Example
    -------
    >>> second(86_401_000_000)
    '1970-01-02 00:00:01'
    """
    return from_micros(micros).strftime("%Y-%m-%d %H:%M:%S")


def arm_traffic_chart(series: Mapping[str, Sequence[tuple[int, int]]]) -> LineChart | None:
    """Each arm's predictions per time slice (``arm -> [(slice start µs, count), ...]``, from
    :func:`cairn.ui.web.deployment.arm_traffic`): one line per arm (None: no predictions)."""
    if not any(n for points in series.values() for _, n in points):
        return None
    top = max(n for points in series.values() for _, n in points) * 1.1
    return line_chart(
        [
            (arm, ARM_COLORS[i % len(ARM_COLORS)], [(x, float(n)) for x, n in points])
            for i, (arm, points) in enumerate(sorted(series.items()))
        ],
        top=top,
        x_text=second,
        title=lambda arm, x, y: f"{arm}: {y:.0f} predictions · {second(x)}",
        width=640,
    )
