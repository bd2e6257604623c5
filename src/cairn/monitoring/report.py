"""The monitoring report: one self-contained HTML page per project (``cairn monitor report``).

Per deployment, from the stored history: the latest window (model version, rows, what
drifted, columns in error, band changes), a table of every model input's statistics, each
input's distribution in the reference and in the latest window (inline SVG bars), PSI over
time per input, score drift (the score's distribution and PSI over time), performance over
time with label completeness, and per-segment results when the latest run was split. The page
loads nothing: no scripts, fonts or stylesheets from elsewhere; bar values show on hover
through SVG titles.

The page is ``templates/report.html`` (on the shared layout, see :mod:`cairn.core.render`);
each section is a macro of ``templates/_monitoring.html`` drawing the :class:`DeploymentView`
that :func:`deployment_view` builds, so another page (the dashboard) can show one deployment,
or one section, from the same view.

Example
-------
>>> html = render_report([], project="demo")
>>> html.startswith("<!DOCTYPE html>") and "No monitoring runs" in html and "<script" not in html
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cairn.core.charts import BarChart, LineChart, grouped_bars, line_chart
from cairn.core.render import minute, render
from cairn.monitoring.drift import SCORE
from cairn.monitoring.history import BandChange, MonitorHistory, RunSummary
from cairn.monitoring.performance import METRICS, WindowPerformance
from cairn.monitoring.results import FeatureDrift
from cairn.monitoring.runs import MonitorRun

REF, CUR = "#9aa5b1", "#2f6fdf"
BAND_COLORS = {"stable": "#2e7d32", "monitor": "#ef8f00", "drift": "#c62828", "error": "#6a1b9a"}
LINE_COLORS = ("#2f6fdf", "#c62828", "#2e7d32", "#ef8f00")


@dataclass(frozen=True)
class DeploymentHistory:
    """What the report shows of one deployment: its runs with results (oldest first), its
    newest run of any status, and the band changes of the newest run with results."""

    deployment: str
    runs: list[MonitorRun]
    last: RunSummary | None = None
    changes: list[BandChange] = field(default_factory=list)

    @property
    def latest(self) -> MonitorRun | None:
        """The newest run with results."""
        return self.runs[-1] if self.runs else None


@dataclass(frozen=True)
class Distribution:
    """A column's bins in the reference and the latest window (``chart`` None: nothing to
    draw, the result says why)."""

    result: FeatureDrift
    chart: BarChart | None
    legend: tuple[tuple[str, str], ...] = ((REF, "reference"), (CUR, "latest window"))
    """(colour, name) of the two sides."""


@dataclass(frozen=True)
class Trend:
    """A column's PSI over the stored runs (``chart`` None: no PSI yet)."""

    feature: str
    chart: LineChart | None


@dataclass(frozen=True)
class Segment:
    """One segment of the latest run: its rows, what drifted and what could not be compared."""

    name: str
    rows: int
    drifted: list[str]
    errors: list[str]


@dataclass(frozen=True)
class DeploymentView:
    """Everything ``_monitoring.html`` draws of one deployment, charts laid out.

    ``notice`` says the newest run had no results; ``run`` is the newest run with results
    (None: the sections after the notice are not drawn).
    """

    deployment: str
    notice: str | None
    run: MonitorRun | None
    summary: list[tuple[str, str]] = field(default_factory=list)
    distributions: list[Distribution] = field(default_factory=list)
    trends: list[Trend] = field(default_factory=list)
    score: tuple[Distribution, Trend] | None = None
    performance: list[tuple[int, WindowPerformance]] = field(default_factory=list)
    """(window end, performance) of every run that judged or counted labels."""
    performance_chart: LineChart | None = None
    metrics: tuple[str, ...] = METRICS
    """The performance table's metric columns."""
    segments: list[Segment] = field(default_factory=list)


def collect(
    history: MonitorHistory, deployment: str | None = None, *, limit: int = 200
) -> list[DeploymentHistory]:
    """The report's data for every deployment with stored runs (or one)."""
    summaries = history.runs(deployment)
    names = sorted({s.deployment for s in summaries})
    out = []
    for name in names:
        runs = history.series(name, limit=limit)
        last = next(s for s in summaries if s.deployment == name)
        changes = history.changes(runs[-1].run_id) if runs and runs[-1].run_id else []
        out.append(DeploymentHistory(name, runs, last, changes))
    return out


def write_report(
    history: MonitorHistory, path: str | Path, *, deployment: str | None = None
) -> Path:
    """Write the report of ``history`` (one deployment or all) to ``path``; returns it."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    html = render_report(collect(history, deployment), project=history.project)
    out.write_text(html, encoding="utf-8")
    return out


def render_report(
    deployments: Sequence[DeploymentHistory],
    *,
    project: str,
    generated_at: datetime | None = None,
) -> str:
    """The report's HTML."""
    return render(
        "report.html",
        package=__package__,
        project=project,
        generated_at=(generated_at or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC"),
        deployments=[deployment_view(d) for d in deployments],
    )


def deployment_view(d: DeploymentHistory) -> DeploymentView:
    """One deployment's sections: the summary rows, the charts laid out, the segments."""
    last, run = d.last, d.latest
    notice = None
    if last is not None and last.status == "empty":
        notice = f"Latest run #{last.run_id}: {last.message}"
    if run is None:
        return DeploymentView(d.deployment, notice, None)
    inputs = [f for f in run.results() if f.kind != SCORE]
    score = run.score
    return DeploymentView(
        d.deployment,
        notice,
        run,
        summary=_summary(run, d.changes),
        distributions=[_distribution(f) for f in inputs],
        trends=[_trend(d.runs, f.feature) for f in inputs],
        score=None if score is None else (_distribution(score), _trend(d.runs, SCORE)),
        performance=[(r.window.end, r.performance) for r in d.runs if r.performance is not None],
        performance_chart=_performance_chart(d.runs),
        segments=_segments(run) if run.segment_column else [],
    )


def _summary(run: MonitorRun, changes: Sequence[BandChange]) -> list[tuple[str, str]]:
    flagged = run.flagged()
    errors = run.errors()
    rows = [
        ("Run", f"#{run.run_id} at {run.started_at:%Y-%m-%d %H:%M} UTC"),
        ("Model", f"{run.model_name} v{run.model_version}"),
        ("Window", run.window.describe()),
        ("Predictions", f"{run.rows:,}"),
        ("Drifted", ", ".join(flagged) or "nothing"),
    ]
    if errors:
        rows.append(("Not compared", "; ".join(f"{f.feature}: {f.error}" for f in errors)))
    if run.performance is not None:
        rows.append(("Performance", run.performance.describe()))
    if changes:
        rows.append(("Band changes", "; ".join(c.describe() for c in changes)))
    if run.signals:
        names = (f"{s.kind}:{s.subject}" + (f"[{s.segment}]" if s.segment else "")
                 for s in run.signals)  # fmt: skip
        rows.append(("Signals", ", ".join(names)))
    return rows


def _distribution(f: FeatureDrift) -> Distribution:
    if f.status == "error" or not f.labels:
        return Distribution(f, None)
    series = [("reference", REF, f.reference_proportions), ("now", CUR, f.current_proportions)]
    return Distribution(f, grouped_bars(f.labels, series))


def _trend(runs: Sequence[MonitorRun], feature: str) -> Trend:
    points = []
    for run in runs:
        found = next((f for f in run.results() if f.feature == feature), None)
        if found is not None and found.status == "ok" and found.psi is not None:
            points.append((run.window.end, found.psi))
    if not points:
        return Trend(feature, None)
    top = max(0.3, *(p for _, p in points)) * 1.1
    guides = [(0.1, BAND_COLORS["monitor"]), (0.25, BAND_COLORS["drift"])]
    return Trend(feature, _lines({"PSI": points}, top, guides))


def _performance_chart(runs: Sequence[MonitorRun]) -> LineChart | None:
    series: dict[str, list[tuple[int, float]]] = {}
    for run in runs:
        if run.performance is not None:
            for metric, value in run.performance.metrics.items():
                series.setdefault(metric, []).append((run.window.end, value))
    if not series:
        return None
    baseline = runs[-1].performance.baseline if runs[-1].performance else {}
    guides = [(baseline["auc"], LINE_COLORS[0])] if "auc" in baseline else []
    return _lines({m: series[m] for m in METRICS if m in series}, 1.0, guides)


def _lines(
    series: dict[str, list[tuple[int, float]]], top: float, guides: list[tuple[float, str]]
) -> LineChart:
    colored = [
        (name, LINE_COLORS[i % len(LINE_COLORS)], points)
        for i, (name, points) in enumerate(series.items())
    ]
    return line_chart(
        colored, top=top, guides=guides, x_text=minute,
        title=lambda name, x, y: f"{name} {y:.3f} · window end {minute(x)}",
    )  # fmt: skip


def _segments(run: MonitorRun) -> list[Segment]:
    out = []
    for name, size in sorted(run.segments.items(), key=lambda kv: -kv[1]):
        errors = [f.feature for f in run.results(name) if f.status == "error"]
        out.append(Segment(name, size, run.flagged(name), errors))
    return out
