"""The monitoring report: one self-contained HTML page per project (``cairn monitor report``).

Per deployment, from the stored history: the latest window (model version, rows, what
drifted, columns in error, band changes), a table of every model input's statistics, each
input's distribution in the reference and in the latest window (inline SVG bars), PSI over
time per input, score drift (the score's distribution and PSI over time), performance over
time with label completeness, and per-segment results when the latest run was split. The page
loads nothing: no scripts, fonts or stylesheets from elsewhere; bar values show on hover
through SVG titles.

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
from html import escape
from pathlib import Path

from cairn.core.timeutil import from_micros
from cairn.monitoring.drift import SCORE
from cairn.monitoring.history import BandChange, MonitorHistory, RunSummary
from cairn.monitoring.performance import METRICS
from cairn.monitoring.runs import FeatureResult, MonitorRun

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
    at = (generated_at or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    body = [f"<h1>Monitoring — {escape(project)}</h1><p class='muted'>Generated {at}.</p>"]
    if not deployments:
        body.append(
            "<p>No monitoring runs yet: run <code>cairn monitor run --deployment D</code>.</p>"
        )
    for d in deployments:
        body.append(_deployment(d))
    return _PAGE.format(title=escape(f"Cairn monitoring — {project}"), body="\n".join(body))


def _deployment(d: DeploymentHistory) -> str:
    parts = [f"<section><h2>Deployment {escape(d.deployment)}</h2>"]
    last, latest = d.last, d.latest
    if last is not None and last.status == "empty":
        parts.append(f"<p class='warn'>Latest run #{last.run_id}: {escape(last.message)}</p>")
    if latest is None:
        parts.append("<p>No run with results yet.</p></section>")
        return "".join(parts)
    parts.append(_summary(latest, d.changes))
    parts.append("<h3>Drift by model input</h3>" + _table(latest.results()))
    inputs = [f for f in latest.results() if f.kind != SCORE]
    parts.append("<h3>Distributions: reference vs latest window</h3><div class='grid'>")
    parts.extend(_distribution(f) for f in inputs)
    parts.append("</div><h3>PSI over time</h3><div class='grid'>")
    parts.extend(_psi_chart(d.runs, f.feature) for f in inputs)
    parts.append("</div><h3>Score drift</h3>")
    score = latest.score
    if score is None:
        parts.append("<p>The reference profile has no score; score drift is not measured.</p>")
    else:
        parts.append(
            "<div class='grid'>" + _distribution(score) + _psi_chart(d.runs, SCORE) + "</div>"
        )
    parts.append("<h3>Performance over time</h3>" + _performance(d.runs))
    if latest.segment_column:
        parts.append(_segments(latest))
    parts.append("</section>")
    return "".join(parts)


def _summary(run: MonitorRun, changes: Sequence[BandChange]) -> str:
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
        rows.append(
            (
                "Signals",
                ", ".join(
                    f"{s.kind}:{s.subject}" + (f"[{s.segment}]" if s.segment else "")
                    for s in run.signals
                ),
            )
        )
    cells = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    return f"<table class='kv'>{cells}</table>"


def _table(results: Sequence[FeatureResult]) -> str:
    head = (
        "<tr><th>column</th><th>kind</th><th>band</th><th>PSI</th><th>PSI (Evidently)</th>"
        "<th>KS</th><th>KS p</th><th>JS</th><th>χ² p</th><th>Wasserstein/σ</th>"
        "<th>nulls ref → now</th><th>unseen</th><th>rows</th></tr>"
    )
    body = []
    for f in results:
        if f.status == "error":
            body.append(
                f"<tr><td>{escape(f.feature)}</td><td>{escape(f.kind)}</td>{_band('error')}"
                f"<td colspan=10>{escape(f.error or 'error')}</td></tr>"
            )
            continue
        nulls = f"{_num(f.null_share_reference, '.1%')} → {_num(f.null_share_current, '.1%')}"
        unseen = ", ".join(f.unseen_categories[:5]) + ("…" if len(f.unseen_categories) > 5 else "")
        body.append(
            f"<tr><td>{escape(f.feature)}{' ⚑' if f.drifted else ''}</td><td>{escape(f.kind)}</td>"
            f"{_band(f.state)}<td>{_num(f.psi)}</td><td>{_num(f.psi_evidently)}</td>"
            f"<td>{_num(f.ks_statistic)}</td><td>{_num(f.ks_p_value, '.2g')}</td>"
            f"<td>{_num(f.js_distance)}</td><td>{_num(f.chi2_p_value, '.2g')}</td>"
            f"<td>{_num(f.wasserstein_norm)}</td><td>{nulls}</td><td>{escape(unseen)}</td>"
            f"<td>{f.rows:,}</td></tr>"
        )
    return f"<table class='grid-table'>{head}{''.join(body)}</table>"


def _distribution(f: FeatureResult) -> str:
    title = f"<h4>{escape(f.feature)} {_badge(f.state)}</h4>"
    if f.status == "error" or not f.labels:
        reason = f.error or "no bins to show"
        return f"<figure>{title}<p class='muted'>{escape(reason)}</p></figure>"
    w, h, pad = 360, 150, 24
    n = len(f.labels)
    ref, cur = f.reference_proportions, f.current_proportions
    top = max([*ref, *cur, 1e-9])
    slot = (w - 2) / n
    bar = max(slot / 2 - 1, 0.5)
    shapes = []
    for i, label in enumerate(f.labels):
        for j, (values, color, who) in enumerate(((ref, REF, "reference"), (cur, CUR, "now"))):
            v = values[i] if i < len(values) else 0.0
            bh = (h - pad) * v / top
            x = 1 + i * slot + j * bar
            shapes.append(
                f'<rect x="{x:.1f}" y="{h - pad - bh:.1f}" width="{bar:.1f}" height="{bh:.1f}" '
                f'fill="{color}"><title>{escape(label)}: {who} {v:.1%}</title></rect>'
            )
    first, last = escape(_short(f.labels[0])), escape(_short(f.labels[-1]))
    shapes.append(f'<text x="1" y="{h - 8}" class="tick">{first}</text>')
    shapes.append(f'<text x="{w - 1}" y="{h - 8}" class="tick" text-anchor="end">{last}</text>')
    legend = (
        f'<p class="legend"><span style="color:{REF}">■</span> reference '
        f'<span style="color:{CUR}">■</span> latest window · PSI {_num(f.psi)}</p>'
    )
    svg = f'<svg viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img">{"".join(shapes)}</svg>'
    return f"<figure>{title}{svg}{legend}</figure>"


def _psi_chart(runs: Sequence[MonitorRun], feature: str) -> str:
    points = []
    for run in runs:
        found = next((f for f in run.results() if f.feature == feature), None)
        if found is not None and found.status == "ok" and found.psi is not None:
            points.append((run.window.end, found.psi))
    title = f"<h4>{escape(feature)}: PSI over time</h4>"
    if not points:
        return f"<figure>{title}<p class='muted'>no PSI yet</p></figure>"
    top = max(0.3, *(p for _, p in points)) * 1.1
    guides = [(0.1, BAND_COLORS["monitor"]), (0.25, BAND_COLORS["drift"])]
    return f"<figure>{title}{_line_chart([points], top, guides, ['PSI'])}</figure>"


def _performance(runs: Sequence[MonitorRun]) -> str:
    rows: list[str] = []
    series: dict[str, list[tuple[int, float]]] = {}
    for run in runs:
        perf = run.performance
        if perf is None:
            continue
        end = _day(run.window.end)
        rows.append(
            f"<tr><td>{end}</td><td>{escape(perf.status)}</td>"
            f"<td>{perf.labeled:,}/{perf.predictions:,} ({perf.completeness:.0%})</td>"
            + "".join(f"<td>{_num(perf.metrics.get(m))}</td>" for m in METRICS)
            + f"<td>{escape(', '.join(perf.degraded) or '-')}</td></tr>"
        )
        for metric, value in perf.metrics.items():
            series.setdefault(metric, []).append((run.window.end, value))
    head = (
        "<tr><th>window end</th><th>status</th><th>labeled</th><th>AUC</th><th>KS</th>"
        "<th>precision</th><th>recall</th><th>degraded</th></tr>"
    )
    table = f"<table class='grid-table'>{head}{''.join(rows)}</table>"
    if not series:
        return table + "<p class='muted'>No window judged yet (label completeness too low).</p>"
    names = [m for m in METRICS if m in series]
    baseline = runs[-1].performance.baseline if runs[-1].performance else {}
    guides = [(baseline["auc"], LINE_COLORS[0])] if "auc" in baseline else []
    chart = _line_chart([series[m] for m in names], 1.0, guides, names)
    return f"<figure><h4>Realized metrics (dashed: training AUC)</h4>{chart}</figure>{table}"


def _segments(run: MonitorRun) -> str:
    rows = []
    for name, size in sorted(run.segments.items(), key=lambda kv: -kv[1]):
        flagged = run.flagged(name)
        errors = [f.feature for f in run.results(name) if f.status == "error"]
        rows.append(
            f"<tr><td>{escape(name)}</td><td>{size:,}</td>"
            f"<td>{escape(', '.join(flagged) or '-')}</td>"
            f"<td>{escape(', '.join(errors) or '-')}</td></tr>"
        )
    head = "<tr><th>segment</th><th>rows</th><th>drifted</th><th>not compared</th></tr>"
    title = f"<h3>Segments by {escape(run.segment_column or '')}</h3>"
    return f"{title}<table class='grid-table'>{head}{''.join(rows)}</table>"


def _line_chart(
    series: Sequence[Sequence[tuple[int, float]]],
    top: float,
    guides: Sequence[tuple[float, str]],
    names: Sequence[str],
) -> str:
    w, h, pad = 360, 150, 22
    xs = sorted({x for s in series for x, _ in s})
    span = (xs[-1] - xs[0]) or 1

    def at(x: int, y: float) -> tuple[float, float]:
        px = 6 + (w - 12) * ((x - xs[0]) / span if len(xs) > 1 else 0.5)
        return px, h - pad - (h - pad - 6) * min(y, top) / top

    shapes = []
    for value, color in guides:
        _, gy = at(xs[0], value)
        shapes.append(
            f'<line x1="0" x2="{w}" y1="{gy:.1f}" y2="{gy:.1f}" stroke="{color}" '
            f'stroke-dasharray="4 3"/>'
        )
    for i, s in enumerate(series):
        color = LINE_COLORS[i % len(LINE_COLORS)]
        pts = [at(x, y) for x, y in s]
        if len(pts) > 1:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py in pts)
            shapes.append(
                f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>'
            )
        for (x, y), (px, py) in zip(s, pts, strict=True):
            shapes.append(
                f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{color}">'
                f"<title>{escape(names[i])} {y:.3f} · window end {_day(x)}</title></circle>"
            )
    shapes.append(f'<text x="1" y="{h - 6}" class="tick">{_day(xs[0])}</text>')
    shapes.append(
        f'<text x="{w - 1}" y="{h - 6}" class="tick" text-anchor="end">{_day(xs[-1])}</text>'
    )
    legend = " ".join(
        f'<span style="color:{LINE_COLORS[i % len(LINE_COLORS)]}">■</span> {escape(n)}'
        for i, n in enumerate(names)
    )
    svg = f'<svg viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img">{"".join(shapes)}</svg>'
    return f"{svg}<p class='legend'>{legend}</p>"


def _band(band: str) -> str:
    return f"<td>{_badge(band)}</td>"


def _badge(band: str) -> str:
    color = BAND_COLORS.get(band, "#555")
    return f'<span class="badge" style="background:{color}">{escape(band)}</span>'


def _num(value: float | None, spec: str = ".3f") -> str:
    return "–" if value is None else format(value, spec)


def _short(label: str) -> str:
    return label if len(label) <= 24 else label[:23] + "…"


def _day(us: int) -> str:
    return from_micros(us).strftime("%Y-%m-%d %H:%M")


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px;
       color: #1f2933; max-width: 1500px; }}
h2 {{ border-bottom: 2px solid #e4e7eb; padding-bottom: 4px; margin-top: 32px; }}
h4 {{ margin: 4px 0; font-size: 13px; }}
table {{ border-collapse: collapse; margin: 8px 0 16px; }}
th, td {{ padding: 3px 8px; border-bottom: 1px solid #e4e7eb; text-align: left;
          font-variant-numeric: tabular-nums; }}
table.kv th {{ color: #52606d; font-weight: 600; }}
.grid {{ display: flex; flex-wrap: wrap; gap: 12px; }}
figure {{ margin: 0; padding: 8px; border: 1px solid #e4e7eb; border-radius: 6px; width: 362px; }}
.badge {{ color: white; border-radius: 4px; padding: 0 6px; font-size: 12px; }}
.tick {{ font-size: 10px; fill: #52606d; }}
.legend {{ font-size: 12px; color: #52606d; margin: 2px 0; }}
.muted {{ color: #7b8794; }}
.warn {{ background: #fff4e5; border-left: 4px solid #ef8f00; padding: 6px 10px; }}
</style></head>
<body>
{body}
</body></html>
"""
