"""The explanation page: a :class:`GlobalExplanation` as one self-contained HTML file.

``templates/report.html`` (on the shared layout of :mod:`cairn.core.render`) draws, with
inline SVG only (no script, no asset from the internet): the importance bars (mean
|contribution|, and the gain share when the model has one), the partial dependence of the top
features as a thick line over thin ICE lines (x spaced by grid position, ticks at the first
and last value), a box-and-strip summary of every feature's contributions (box 25-75 %,
whiskers 5-95 %, median, the ICE rows as dots), and a scorecard's points table. Every number
is also in a table. Geometry is computed here or by :mod:`cairn.core.charts`; markup lives in
``templates/_explain.html``.

Example
-------
>>> e = GlobalExplanation("m", "1", "lightgbm", "log-odds", 2, ["x"], {"x": "x"}, {"x": 0.5},
...     -1.0, [Dependence("x", "number", [0.0, 1.0], ["0", "1"], [0.2, 0.4],
...     [[0.1, 0.3], [0.3, 0.5]])], [ContributionSummary("x", [-1, -.5, 0, .5, 1], 0, 1.0,
...     [-0.5, 0.5])])
>>> page = render_html(e)
>>> page.startswith("<!DOCTYPE html>") and page.count("<svg") == 3 and "<script" not in page
True
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cairn.core.charts import BarChart, LineChart, Text, grouped_bars, line_chart, short
from cairn.core.render import number, render
from cairn.explain.global_explanation import ContributionSummary, Dependence, GlobalExplanation

__all__ = ["BoxPlot", "BoxRow", "render_html", "write_html"]

_BLUE, _GREY, _ORANGE = "#0969da", "#8c959f", "#bc4c00"


@dataclass(frozen=True)
class BoxRow:
    """One feature's contributions: x positions of the quantiles (5, 25, 50, 75, 95 %) and of
    the strip's dots, at height ``y``."""

    label: Text
    y: int
    whisker: tuple[float, float]
    box: tuple[float, float]
    median: float
    dots: list[float]
    title: str


@dataclass(frozen=True)
class BoxPlot:
    """Boxes on one horizontal axis through 0 (dashed at ``zero``)."""

    width: int
    height: int
    zero: float
    rows: list[BoxRow]
    ticks: list[Text]


@dataclass(frozen=True)
class CurveView:
    """One feature's PD over its ICE lines, and the PD as table rows."""

    feature: str
    label: str
    chart: LineChart
    table: list[list[str]]


def box_plot(summary: list[ContributionSummary], labels: dict[str, str]) -> BoxPlot:
    """The box-and-strip summary of every feature on one axis."""
    values = [v for s in summary for v in (*s.quantiles, *s.strip)] + [0.0]
    span = max(abs(v) for v in values) * 1.1 or 1.0
    width, left, right, row_h = 640, 160, 620, 24
    height = row_h * len(summary) + 30

    def x(v: float) -> float:
        return round(left + (v + span) / (2 * span) * (right - left), 1)

    rows = []
    for k, s in enumerate(summary):
        y = 14 + k * row_h
        q = s.quantiles
        rows.append(
            BoxRow(
                Text(4, y + 4, short(labels.get(s.feature, s.feature))),
                y,
                (x(q[0]), x(q[4])),
                (x(q[1]), x(q[3])),
                x(q[2]),
                [x(v) for v in s.strip],
                f"{s.feature}: median {q[2]:+.3f}, 25-75% {q[1]:+.3f} to {q[3]:+.3f}",
            )
        )
    ticks = [Text(x(v), height - 6, f"{v:+.2g}", "middle") for v in (-span, 0.0, span)]
    return BoxPlot(width, height, x(0.0), rows, ticks)


def curve_view(d: Dependence, label: str) -> CurveView:
    """PD (thick, first series) over the ICE lines (thin) of one feature."""
    top = max([*d.average, *(v for row in d.individual for v in row), 1e-9]) * 1.05
    series = [("PD", _BLUE, list(enumerate(d.average)))]
    series += [(f"ICE {i + 1}", _GREY, list(enumerate(row))) for i, row in enumerate(d.individual)]
    chart = line_chart(
        series,
        top=top,
        x_text=lambda i: d.grid_labels[i],
        title=lambda name, i, y: f"{name}: {y:.3f} at {label} = {d.grid_labels[i]}",
        width=420,
        height=180,
    )
    table = [[text, number(pd, ".4f")] for text, pd in zip(d.grid_labels, d.average, strict=True)]
    return CurveView(d.feature, label, chart, table)


def render_html(explanation: GlobalExplanation) -> str:
    """The page (see the module)."""
    e = explanation
    names = list(e.importance)
    shown = [e.labels.get(n, n) for n in names]
    bars = grouped_bars(
        shown, [("mean |contribution|", _BLUE, [e.importance[n] for n in names])], spec=".4f"
    )
    gain_bars: BarChart | None = None
    total = sum((e.gain or {}).values())
    if e.gain is not None and total > 0:
        share = [e.gain[n] / total for n in names]
        gain_bars = grouped_bars(shown, [("gain share", _ORANGE, share)])
    rises = {s.feature: s.rises for s in e.summary}
    table = [
        [
            e.labels.get(n, n),
            number(e.importance[n], ".4f"),
            "–" if e.gain is None or total <= 0 else number(e.gain[n] / total, ".1%"),
            number(rises.get(n), ".0%"),
        ]
        for n in names
    ]
    curves = [curve_view(d, e.labels.get(d.feature, d.feature)) for d in e.dependence if d.grid]
    summary_rows = [
        [e.labels.get(s.feature, s.feature), *(number(q, "+.4f") for q in s.quantiles)]
        for s in e.summary
    ]
    points_head = list(e.points[0]) if e.points else []
    points_rows = [[_cell(row.get(k)) for k in points_head] for row in e.points or []]
    return render(
        "report.html",
        package="cairn.explain",
        e=e,
        bars=bars,
        gain_bars=gain_bars,
        table=table,
        curves=curves,
        boxes=box_plot(e.summary, e.labels),
        summary_rows=summary_rows,
        points_head=points_head,
        points_rows=points_rows,
    )


def write_html(explanation: GlobalExplanation, path: Path) -> Path:
    """Write :func:`render_html` to ``path`` (its folder is created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(explanation), encoding="utf-8")
    return path


def _cell(value: object) -> str:
    if isinstance(value, float):
        return number(value, ".4g")
    return "–" if value is None else str(value)
