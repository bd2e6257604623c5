"""Geometry of the inline-SVG charts: scales and paths are computed here, the markup lives in
``cairn/core/templates/_macros.html`` (``ui.bars``, ``ui.lines``, ``ui.intervals``).

Each builder returns a frozen value whose coordinates are already rounded to what the SVG
prints (one decimal), and whose texts (ticks, hover titles) are plain strings that the template
escapes. Nothing here writes markup, so a report and the dashboard draw the same chart from the
same numbers.

Example
-------
>>> chart = grouped_bars(["a", "b"], [("reference", "#999", [0.5, 0.5]),
...                                   ("now", "#00f", [0.25, 0.75])])
>>> [(b.x, b.height, b.title) for b in chart.bars][:2]
[(1.0, 84.0, 'a: reference 50.0%'), (89.5, 42.0, 'a: now 25.0%')]
>>> plot = intervals([("t", 0.05, 0.01, math.inf, "#1a7f37")])
>>> plot.rows[0].arrows
[(615.0, 20, '▶')]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

__all__ = [
    "Bar",
    "BarChart",
    "Dot",
    "Guide",
    "IntervalPlot",
    "IntervalRow",
    "LineChart",
    "LineSeries",
    "Text",
    "grouped_bars",
    "intervals",
    "line_chart",
    "short",
]


@dataclass(frozen=True)
class Text:
    """A text placed at ``(x, y)``; ``anchor`` is SVG's ``text-anchor``."""

    x: float
    y: float
    text: str
    anchor: str = "start"


@dataclass(frozen=True)
class Bar:
    """One bar, with the title shown on hover."""

    x: float
    y: float
    width: float
    height: float
    color: str
    title: str


@dataclass(frozen=True)
class BarChart:
    """Grouped bars over labelled slots, with the first and last label as ticks."""

    width: int
    height: int
    bars: list[Bar]
    ticks: list[Text]


@dataclass(frozen=True)
class Guide:
    """A dashed horizontal line at ``y`` (a threshold, a baseline)."""

    y: float
    color: str


@dataclass(frozen=True)
class Dot:
    """One data point, with the title shown on hover."""

    x: float
    y: float
    title: str


@dataclass(frozen=True)
class LineSeries:
    """One named series: its ``points`` (SVG ``polyline`` syntax; empty for a single point)."""

    name: str
    color: str
    points: str
    dots: list[Dot]


@dataclass(frozen=True)
class LineChart:
    """Series over a shared time axis, with guides and the first and last x as ticks."""

    width: int
    height: int
    guides: list[Guide]
    series: list[LineSeries]
    ticks: list[Text]


@dataclass(frozen=True)
class IntervalRow:
    """One labelled interval: ``low``/``high``/``estimate`` are x positions (None: not drawn)."""

    label: Text
    y: int
    color: str
    low: float | None = None
    high: float | None = None
    estimate: float | None = None
    arrows: list[tuple[float, int, str]] = field(default_factory=list)
    """``(x, y, ◀ or ▶)`` where a bound is infinite (a one-sided interval)."""


@dataclass(frozen=True)
class IntervalPlot:
    """Horizontal intervals on one axis through 0 (a dashed line at ``zero``)."""

    width: int
    height: int
    zero: float
    rows: list[IntervalRow]
    ticks: list[Text]


def grouped_bars(
    labels: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[float]]],
    *,
    width: int = 360,
    height: int = 150,
    pad: int = 24,
    spec: str = ".1%",
) -> BarChart:
    """Bars of every ``(name, color, values)`` series side by side per label, on one scale.

    A missing value counts as 0; titles read ``label: name value`` (``value`` in ``spec``).
    """
    n = max(len(labels), 1)
    top = max([*(v for _, _, values in series for v in values), 1e-9])
    slot = (width - 2) / n
    bar = max(slot / max(len(series), 1) - 1, 0.5)
    bars = []
    for i, label in enumerate(labels):
        for j, (name, color, values) in enumerate(series):
            v = values[i] if i < len(values) else 0.0
            tall = (height - pad) * v / top
            x = 1 + i * slot + j * bar
            bars.append(
                Bar(_r(x), _r(height - pad - tall), _r(bar), _r(tall), color,
                    f"{label}: {name} {format(v, spec)}")
            )  # fmt: skip
    ticks = []
    if labels:
        ticks = [
            Text(1, height - 8, short(labels[0])),
            Text(width - 1, height - 8, short(labels[-1]), "end"),
        ]
    return BarChart(width, height, bars, ticks)


def line_chart(
    series: Sequence[tuple[str, str, Sequence[tuple[int, float]]]],
    *,
    top: float,
    guides: Sequence[tuple[float, str]] = (),
    x_text: Callable[[int], str] = str,
    title: Callable[[str, int, float], str] | None = None,
    width: int = 360,
    height: int = 150,
    pad: int = 22,
) -> LineChart:
    """Every ``(name, color, [(x, y), ...])`` series on one x axis and a y axis from 0 to
    ``top`` (values above it are drawn at it); ``guides`` are ``(y, color)`` lines.

    ``x_text`` writes the x ticks; ``title(name, x, y)`` the hover titles (default
    ``name y · x``, y to three decimals). At least one series needs a point.
    """
    xs = sorted({x for _, _, points in series for x, _ in points})
    if not xs:
        raise ValueError("line_chart needs at least one point; got series without any.")
    span = (xs[-1] - xs[0]) or 1
    say = title or (lambda name, x, y: f"{name} {y:.3f} · {x_text(x)}")

    def at(x: int, y: float) -> tuple[float, float]:
        px = 6 + (width - 12) * ((x - xs[0]) / span if len(xs) > 1 else 0.5)
        return _r(px), _r(height - pad - (height - pad - 6) * min(y, top) / top)

    lines = [Guide(at(xs[0], value)[1], color) for value, color in guides]
    drawn = []
    for name, color, points in series:
        placed = [at(x, y) for x, y in points]
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in placed) if len(placed) > 1 else ""
        dots = [
            Dot(px, py, say(name, x, y)) for (x, y), (px, py) in zip(points, placed, strict=True)
        ]
        drawn.append(LineSeries(name, color, path, dots))
    ticks = [
        Text(1, height - 6, x_text(xs[0])),
        Text(width - 1, height - 6, x_text(xs[-1]), "end"),
    ]
    return LineChart(width, height, lines, drawn, ticks)


def intervals(
    rows: Sequence[tuple[str, float, float, float, str]],
    *,
    width: int = 640,
    percent: bool = True,
) -> IntervalPlot:
    """Horizontal intervals ``(label, estimate, low, high, colour)`` on one axis through 0.

    The axis spans the largest finite value (with 15 % room) on both sides; an infinite bound
    (a one-sided test) runs to the edge with an arrow; a row whose estimate is not finite, or
    whose bound is NaN, shows only its label. Ticks are percentages (or three significant
    digits with ``percent=False``).
    """
    finite = [v for _, e, lo, hi, _ in rows for v in (e, lo, hi) if math.isfinite(v)] + [0.0]
    span = max(abs(v) for v in finite) * 1.15 or 1.0
    left, right, row_h = 150, width - 20, 26
    height = row_h * len(rows) + 30

    def raw(v: float) -> float:
        v = max(-span, min(span, v))
        return left + (v + span) / (2 * span) * (right - left)

    def x(v: float) -> float:
        return _r(raw(v))

    placed = []
    for k, (label, est, lo, hi, color) in enumerate(rows):
        y = 16 + k * row_h
        text = Text(4, y + 4, label)
        if any(math.isnan(v) for v in (lo, hi)) or not math.isfinite(est):
            placed.append(IntervalRow(text, y, color))
            continue
        arrows = [
            (_r(raw(bound) - 5), y + 4, "◀" if bound < 0 else "▶")
            for bound in (lo, hi)
            if math.isinf(bound)
        ]
        placed.append(IntervalRow(text, y, color, x(lo), x(hi), x(est), arrows))
    ticks = [
        Text(x(v), height - 6, f"{v:+.1%}" if percent else f"{v:+.3g}", "middle")
        for v in (-span, -span / 2, 0.0, span / 2, span)
    ]
    return IntervalPlot(width, height, x(0), placed, ticks)


def short(label: str, size: int = 24) -> str:
    """``label`` cut to ``size`` characters (the last one an ellipsis)."""
    return label if len(label) <= size else label[: size - 1] + "…"


def _r(value: float) -> float:
    """A coordinate as the SVG prints it (one decimal)."""
    return round(value, 1)
