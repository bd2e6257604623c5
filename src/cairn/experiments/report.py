"""A self-contained HTML report: tables and inline-SVG interval plots, no scripts, no CDN.

:func:`render_html` turns an :class:`ExperimentAnalysis` (and optionally a
:class:`ChampionComparison`) into one HTML page that opens offline and can be attached to a
model-risk review: the traffic split and its SRM check, per metric the arms, label
completeness and lifts with their intervals drawn to scale, segments, and the champion vs
challenger metrics with a reliability diagram and the recommendation.

The page is ``templates/report.html`` on the shared layout (:mod:`cairn.core.render`); its
parts are macros of ``templates/_experiments.html`` (``analysis``, ``metric``,
``comparisons``, ``champion``, ``reliability``) drawing the views built here, so another page
can show one metric or the champion comparison alone. Numbers are formatted here, markup lives
in the templates.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cairn.core.charts import IntervalPlot, intervals
from cairn.core.render import number, render, render_macro
from cairn.experiments.analysis_results import Comparison, ExperimentAnalysis, MetricAnalysis
from cairn.experiments.champion.calibration import ReliabilityBin
from cairn.experiments.champion.compare import ChampionComparison, ModelMetrics

_COLORS = {"better": "#1a7f37", "worse": "#cf222e", "harm": "#cf222e", "no harm": "#57606a"}
_GREY, _AMBER = "#57606a", "#9a6700"


@dataclass(frozen=True)
class ComparisonRow:
    """One arm (or segment · arm) against control, formatted: ``cells`` are the absolute and
    relative lifts, the interval, p, adjusted p, chance to win and CUPED; ``verdict`` is the
    verdict, or why the comparison could not be made. ``raw`` is the unadjusted row under a
    CUPED-adjusted one (same cells; not what the verdict rests on), ``note`` what CUPED did."""

    label: str
    means: str
    cells: list[str]
    verdict: str
    color: str
    raw: list[str] | None = None
    note: str | None = None


@dataclass(frozen=True)
class MetricView:
    """One metric: its arms table, comparisons and interval plots (None when not compared)."""

    analysis: MetricAnalysis
    arms: list[list[str]]
    comparisons: list[ComparisonRow]
    plot: IntervalPlot | None
    segments: list[ComparisonRow]
    segment_plot: IntervalPlot | None


@dataclass(frozen=True)
class AnalysisView:
    """The experiment part of the report: the traffic table and every metric."""

    analysis: ExperimentAnalysis
    traffic: list[list[str]]
    metrics: list[MetricView]


@dataclass(frozen=True)
class ReliabilityPlot:
    """Observed rate by predicted score: a ``size`` square with ``pad`` margins; each curve
    is ``(name, colour, polyline points, legend y)``."""

    size: int
    pad: int
    curves: list[tuple[str, str, str, int]]

    @property
    def scale(self) -> int:
        """The side of the unit square in pixels."""
        return self.size - 2 * self.pad


@dataclass(frozen=True)
class AdverseImpactTable:
    """Rates of the favorable decision (``decision``: approve for credit) by group of one model."""

    attribute: str
    model: str
    rows: list[list[str]]
    decision: str = "approve"


@dataclass(frozen=True)
class ChampionView:
    """The champion vs challenger part: metrics table, reliability, adverse impact."""

    comparison: ChampionComparison
    metrics: list[list[str]]
    reliability: ReliabilityPlot | None
    adverse_impact: list[AdverseImpactTable]


def render_html(
    analysis: ExperimentAnalysis | None, champion: ChampionComparison | None = None
) -> str:
    """The report as one HTML string (either part may be None).

    Example
    -------
    >>> "<script" in render_html(None)
    False
    """
    source = analysis or champion
    return render(
        "report.html",
        package=__package__,
        title=source.deployment if source is not None else "experiment",
        analysis=None if analysis is None else analysis_view(analysis),
        champion=None if champion is None else champion_view(champion),
    )


def write_html(
    path: str | Path,
    analysis: ExperimentAnalysis | None,
    champion: ChampionComparison | None = None,
) -> Path:
    """Write :func:`render_html` to ``path`` (UTF-8) and return it.

    Example
    -------
    >>> import tempfile
    >>> out = write_html(Path(tempfile.mkdtemp()) / "r.html", None)
    >>> out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    True
    """
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_html(analysis, champion), encoding="utf-8")
    return out


def interval_svg(
    rows: Sequence[tuple[str, float, float, float, str]], *, width: int = 640, percent: bool = True
) -> str:
    """Horizontal intervals ``(label, estimate, low, high, colour)`` on one axis through 0.

    Infinite bounds (one-sided tests) run to the edge of the plot with an arrow.

    Example
    -------
    >>> interval_svg([("t1", 0.05, 0.01, math.inf, "#1a7f37")]).count("<line")
    2
    """
    plot = intervals(rows, width=width, percent=percent)
    return render_macro("_macros.html", "intervals", plot, package=__package__)


def analysis_view(a: ExperimentAnalysis) -> AnalysisView:
    """The experiment part of the report, formatted."""
    traffic = [[u.arm, f"{u.units:,}", _num(u.weight, ".3g")] for u in a.arms]
    return AnalysisView(a, traffic, [_metric(m) for m in a.metrics])


def champion_view(c: ChampionComparison) -> ChampionView:
    """The champion vs challenger part of the report, formatted."""
    a, b = c.champion.classification, c.challenger.classification
    reliability = None
    if a is not None and b is not None:
        reliability = _reliability(a.reliability, b.reliability)
    tables = []
    for m in (c.champion, c.challenger):
        if m.adverse_impact is not None:
            impact = m.adverse_impact
            rows = [[g.group, f"{g.count:,}", f"{g.rate:.1%}", _num(g.ratio, ".2f")]
                    for g in impact.groups]  # fmt: skip
            tables.append(AdverseImpactTable(impact.attribute, m.model, rows, impact.decision))
    favorable = c.decision.favorable_decision
    return ChampionView(c, _model_rows(c.champion, c.challenger, favorable), reliability, tables)


def _metric(m: MetricAnalysis) -> MetricView:
    rows = []
    for arm, c in zip(m.arms, m.completeness, strict=True):
        share = "-" if c.share is None or not m.metric.uses_outcome else f"{c.share:.0%}"
        rows.append([arm.arm, f"{arm.n:,}", f"{arm.mean:.4g}", f"{c.mature_units:,}", share])
    if m.status != "ok":
        return MetricView(m, rows, [], None, [], None)
    segments = [_interval(c, f"{c.segment} · {c.arm}") for c in m.segments]
    return MetricView(
        m,
        rows,
        [_comparison(c) for c in m.comparisons],
        intervals([_interval(c, c.arm) for c in m.comparisons]),
        [_comparison(c) for c in m.segments],
        intervals(segments) if m.segments else None,
    )


def _comparison(c: Comparison) -> ComparisonRow:
    label = (f"{c.segment} · " if c.segment else "") + c.arm
    means = f"{c.treatment_mean:.4g} vs {c.control_mean:.4g}"
    k = c.cuped
    note = None
    if k.covariate is not None:
        note = f"CUPED not applied: {k.reason}; the verdict rests on the raw lift."
    if c.error:
        return ComparisonRow(label, means, ["-"] * 7, c.error, _AMBER, note=note)
    lo, hi = c.relative.ci
    cuped = "no" if k.covariate is None else "fallback"
    raw = None
    if k.applied and k.adjusted is not None and k.raw is not None:
        means = f"{k.adjusted.treatment_mean:.4g} vs {k.adjusted.control_mean:.4g} adj."
        cuped = "yes" if k.variance_reduction is None else f"−{k.variance_reduction:.0%} var"
        r = k.raw
        raw = [f"{r.treatment_mean:.4g} vs {r.control_mean:.4g} raw",
               f"{r.absolute.expected:+.4g}", f"{r.relative.expected:+.2%}",
               f"{_pct(r.relative.ci[0])} to {_pct(r.relative.ci[1])}",
               _num(r.relative.p_value, ".3g"), "-", "-", "unadjusted"]  # fmt: skip
        note = (
            f"CUPED with {k.covariate} over {k.window} before the start of non-experiment "
            f"traffic (θ = {_num(k.theta, '.3g')}, lift variance reduced by "
            f"{_num(k.variance_reduction, '.1%')}); the verdict rests on the adjusted lift."
        )
    cells = [
        f"{c.absolute.expected:+.4g}",
        f"{c.relative.expected:+.2%}",
        f"{_pct(lo)} to {_pct(hi)}",
        _num(c.p_value, ".3g"),
        _num(c.adjusted_p_value, ".3g"),
        f"{c.chance_to_win:.1%}",
        cuped,
    ]
    color = _COLORS.get(c.verdict, _GREY)
    return ComparisonRow(label, means, cells, c.verdict, color, raw, None if c.segment else note)


def _model_rows(a: ModelMetrics, b: ModelMetrics, favorable: str) -> list[list[str]]:
    def auc(m: ModelMetrics) -> str:
        if m.auc is None:
            return "-"
        return f"{m.auc.auc:.3f} ({m.auc.ci[0]:.3f}–{m.auc.ci[1]:.3f})"

    def cl(m: ModelMetrics, name: str) -> str:
        value = getattr(m.classification, name) if m.classification else None
        return _num(value, ".4g")

    rows = [["AUC (95% CI)", auc(a), auc(b)]]
    for name in ("ks", "precision", "recall", "brier", "expected_calibration_error"):
        rows.append([name.replace("_", " "), cl(a, name), cl(b, name)])
    rows.append([f"{favorable} rate", f"{a.favorable_rate:.1%}", f"{b.favorable_rate:.1%}"])
    rows.append(["latency p99 (ms)", _num(a.latency_p99_ms, ".3f"),
                 _num(b.latency_p99_ms, ".3f")])  # fmt: skip
    return rows


def _reliability(a: Sequence[ReliabilityBin], b: Sequence[ReliabilityBin]) -> ReliabilityPlot:
    size, pad = 300, 40
    scale = size - 2 * pad
    curves = []
    for k, (bins, color, name) in enumerate(((a, "#0969da", "champion"),
                                             (b, "#bf3989", "challenger"))):  # fmt: skip
        points = " ".join(
            f"{pad + r.mean_score * scale:.1f},{size - pad - r.observed_rate * scale:.1f}"
            for r in bins
        )
        curves.append((name, color, points, pad + 10 + 18 * k))
    return ReliabilityPlot(size, pad, curves)


def _interval(c: Comparison, label: str) -> tuple[str, float, float, float, str]:
    color = _COLORS.get(c.verdict, _GREY)
    if c.error:
        return (label, math.nan, math.nan, math.nan, color)
    return (label, c.relative.expected, c.relative.ci[0], c.relative.ci[1], color)


def _pct(value: float) -> str:
    return "∞" if value == math.inf else "-∞" if value == -math.inf else f"{value:+.2%}"


def _num(value: float | None, spec: str) -> str:
    return number(value, spec, missing="-")
