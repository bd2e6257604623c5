"""Experiment analyses and champion comparisons for a terminal."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from rich.table import Table

from cairn.ui.terminal.console import console

if TYPE_CHECKING:
    from cairn.experiments.analysis_results import Comparison, ExperimentAnalysis
    from cairn.experiments.champion.compare import ChampionComparison, ModelMetrics


VERDICT_STYLE = {"better": "green", "worse": "red", "harm": "bold red", "error": "yellow"}


def print_analysis(a: ExperimentAnalysis) -> None:
    """The analysis as Rich tables: arms and SRM, then one table per metric."""
    which = f" {a.strategy} experiment {a.experiment}" if a.experiment else ""
    console.print(
        f"[bold]{a.deployment}[/]{which}: {a.method} analysis from {a.start:%Y-%m-%d %H:%M} to "
        f"{a.as_of:%Y-%m-%d %H:%M} UTC, control [bold]{a.control or '-'}[/], "
        f"correction {a.correction or 'none'}"
    )
    arms = Table("arm", "units", "weight", title="Arms", title_justify="left")
    for u in a.arms:
        arms.add_row(u.arm, f"{u.units:,}", "-" if u.weight is None else f"{u.weight:.3g}")
    console.print(arms)
    if a.srm is not None:
        style = "bold red" if a.srm.mismatch else "green"
        text = "MISMATCH - results are suspect" if a.srm.mismatch else "ok"
        console.print(f"SRM: p = {a.srm.p_value:.4g} [{style}]{text}[/]")
    elif a.srm_note:
        console.print(f"SRM {a.srm_note}.")
    for note in a.notes:
        console.print(f"[dim]{note}[/]")
    if a.status != "ok":
        console.print(f"[bold yellow]{a.reason}[/]")
        return
    for m in a.metrics:
        kind = "guardrail" if m.metric.guardrail else m.metric.family
        title = f"{m.metric.name} ({m.metric.kind}, {kind}, good: {m.metric.direction})"
        if m.status != "ok":
            console.print(f"[bold]{title}[/]: [yellow]{m.reason}[/]")
            continue
        caption = None
        if m.metric.uses_outcome:
            caption = "labels: " + ", ".join(
                f"{c.arm} {c.share or 0:.0%} of {c.mature_units:,} mature units"
                for c in m.completeness
            )
        table = Table(
            "arm", "units", "mean", "lift", "interval", "p", "adj. p", "win", "CUPED", "verdict",
            title=title, title_justify="left", caption=caption, caption_justify="left",
        )  # fmt: skip
        first = m.arms[0]
        table.add_row(first.arm, f"{first.n:,}", f"{first.mean:.4g}", *["-"] * 6, "control")
        for c in [*m.comparisons, *m.segments]:
            table.add_row(*_comparison_cells(c))
            if c.cuped.applied and c.cuped.raw is not None and not c.error:
                table.add_row(*_raw_cells(c))
        console.print(table)
        for line in cuped_lines(m.comparisons):
            console.print(f"[dim]{line}[/]")


def cuped_lines(comparisons: list[Comparison]) -> list[str]:
    """One line per comparison of a metric that declares CUPED: used (covariate, window, θ,
    variance reduction, verdict on the adjusted lift) or not, and why."""
    lines = []
    for c in comparisons:
        k = c.cuped
        if k.covariate is None:
            continue
        where = f"{c.metric} {c.arm}: CUPED"
        if k.applied and k.adjusted is not None:
            cut = "-" if k.variance_reduction is None else f"{k.variance_reduction:.0%}"
            adj = k.adjusted
            lines.append(
                f"{where} with {k.covariate} over {k.window} before the start (θ {k.theta:.3g}, "
                f"lift variance -{cut}); means {c.treatment_mean:.4g} vs {c.control_mean:.4g} "
                f"raw, {adj.treatment_mean:.4g} vs {adj.control_mean:.4g} adjusted; the verdict "
                "rests on the adjusted lift"
            )
        else:
            lines.append(f"{where} not applied ({k.reason}); the verdict rests on the raw lift")
    return lines


def _raw_cells(c: Comparison) -> list[str]:
    """The unadjusted estimate under a CUPED-adjusted row (not what the verdict rests on)."""
    raw = c.cuped.raw
    assert raw is not None
    lo, hi = raw.relative.ci
    return [
        "  raw", "", f"{raw.treatment_mean:.4g}", f"{raw.relative.expected:+.2%}",
        f"{_pct(lo)} .. {_pct(hi)}", _p(raw.relative.p_value), "-", "-", "unadjusted", "-",
    ]  # fmt: skip


def _comparison_cells(c: Comparison) -> list[str]:
    style = VERDICT_STYLE.get(c.verdict, "")
    verdict = f"[{style}]{c.verdict}[/]" if style else c.verdict
    label = f"{c.segment} · {c.arm}" if c.segment else c.arm
    if c.error:  # the reason code; the whole sentence is in the report and to_dict()
        return [label, f"{c.treatment_n:,}", f"{c.treatment_mean:.4g}", *["-"] * 6,
                f"[yellow]{c.error.split(':')[0]}[/]"]  # fmt: skip
    lo, hi = c.relative.ci
    mean, cuped = f"{c.treatment_mean:.4g}", "no" if c.cuped.covariate is None else "fallback"
    if c.cuped.applied and c.cuped.adjusted is not None:
        mean = f"{c.cuped.adjusted.treatment_mean:.4g} adj."
        reduction = c.cuped.variance_reduction
        cuped = "yes" if reduction is None else f"-{reduction:.0%} var"
    return [
        label,
        f"{c.treatment_n:,}",
        mean,
        f"{c.relative.expected:+.2%}",
        f"{_pct(lo)} .. {_pct(hi)}",
        _p(c.p_value),
        _p(c.adjusted_p_value) if c.segment is None else "-",
        f"{c.chance_to_win:.0%}",
        cuped,
        verdict,
    ]


def print_comparison(c: ChampionComparison) -> None:
    """Champion vs challenger side by side, then the recommendation and its reasons."""
    table = Table(
        "metric",
        f"champion {c.champion.model}",
        f"challenger {c.challenger.model}",
        title=f"{c.deployment}: {c.pairs:,} shadow pairs, {c.labeled_pairs:,} labeled "
        f"(threshold {c.threshold})",
        title_justify="left",
    )
    for row in _model_rows(c.champion, c.challenger, c.decision.favorable_decision):
        table.add_row(*row)
    console.print(table)
    console.print(c.describe_maturity())
    style = {"promote": "bold green", "keep": "bold red"}.get(c.recommendation, "bold yellow")
    console.print(f"Recommendation: [{style}]{c.recommendation}[/]")
    for reason in c.reasons:
        console.print(f"  - {reason}")
    for note in c.notes:
        console.print(f"[dim]{note}[/]")


def _model_rows(a: ModelMetrics, b: ModelMetrics, favorable: str) -> list[list[str]]:
    def auc(m: ModelMetrics) -> str:
        return "-" if m.auc is None else f"{m.auc.auc:.3f} ({m.auc.ci[0]:.3f}-{m.auc.ci[1]:.3f})"

    def cl(m: ModelMetrics, name: str) -> str:
        value = getattr(m.classification, name) if m.classification is not None else None
        return "-" if value is None else f"{value:.4g}"

    def air(m: ModelMetrics) -> str:
        impact = m.adverse_impact
        return "-" if impact is None or impact.min_ratio is None else f"{impact.min_ratio:.2f}"

    rows = [["AUC (95% CI)", auc(a), auc(b)]]
    rows += [[n, cl(a, n), cl(b, n)] for n in ("ks", "precision", "recall", "brier")]
    rows.append([f"{favorable} rate", f"{a.favorable_rate:.1%}", f"{b.favorable_rate:.1%}"])
    rows.append(["adverse impact ratio (min)", air(a), air(b)])
    p99 = [m.latency_p99_ms for m in (a, b)]
    rows.append(["latency p99 ms", *("-" if v is None else f"{v:.3f}" for v in p99)])
    return rows


def print_summary(a: ExperimentAnalysis) -> None:
    """One line per metric and treatment arm (no segments): the quickstart's short form of
    :func:`print_analysis`."""
    which = f" {a.strategy} experiment {a.experiment}" if a.experiment else ""
    srm = "" if a.srm is None else f", SRM p = {a.srm.p_value:.3g}"
    units = ", ".join(f"{u.arm} {u.units:,}" for u in a.arms)
    console.print(
        f"[bold]{a.deployment}[/]{which}: {units} units, control [bold]{a.control or '-'}[/]{srm}"
    )
    if a.status != "ok":
        console.print(f"[bold yellow]{a.reason}[/]")
        return
    table = Table(
        "metric", "arm", "control", "arm mean", "lift", "interval", "p", "adj. p", "win",
        "CUPED", "verdict", title="A/B analysis (segments in the HTML report)",
        title_justify="left",
    )  # fmt: skip
    for m in a.metrics:
        if m.status != "ok":
            table.add_row(m.metric.name, *["-"] * 9, f"[yellow]{m.reason}[/]")
            continue
        for c in m.comparisons:
            cells = _comparison_cells(c)
            control = f"{c.control_mean:.4g}"
            if c.cuped.applied and c.cuped.adjusted is not None:
                control = f"{c.cuped.adjusted.control_mean:.4g} adj."
            table.add_row(m.metric.name, cells[0], control, *cells[2:])
            if c.cuped.applied and c.cuped.raw is not None and not c.error:
                raw = _raw_cells(c)
                table.add_row("", raw[0], f"{c.control_mean:.4g}", *raw[2:])
    console.print(table)
    for m in a.metrics:
        for line in cuped_lines(m.comparisons):
            console.print(f"[dim]{line}[/]")


def _pct(value: float) -> str:
    return "inf" if value == math.inf else "-inf" if value == -math.inf else f"{value:+.2%}"


def _p(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"
