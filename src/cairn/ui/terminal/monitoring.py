"""Monitoring runs for a terminal: drift per column, history."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.markup import escape
from rich.table import Table

from cairn.core.timeutil import from_micros
from cairn.ui.terminal.console import console

if TYPE_CHECKING:
    from cairn.monitoring.history import RunSummary
    from cairn.monitoring.runs import FeatureResult
    from cairn.monitoring.service import MonitoringOutcome


BAND_STYLE = {"stable": "green", "monitor": "yellow", "drift": "bold red", "error": "magenta"}


def print_run(outcome: MonitoringOutcome) -> None:
    """One run: window, per-column drift, performance, changes and alert delivery."""
    run = outcome.run
    console.print(
        f"[bold]{escape(run.deployment)}[/] vs {escape(run.model_name)} v{run.model_version} — "
        f"run #{run.run_id}: {escape(run.message)}",
        highlight=False,
    )
    if run.status == "empty":
        return
    console.print(drift_table(run.results(), title="Drift (all traffic)"))
    if run.segments:
        console.print(
            f"Segments by {run.segment_column}, against the preceding window:", markup=False
        )
    for segment in sorted(run.segments, key=lambda s: -run.segments[s]):
        flagged = run.flagged(segment)
        said = ", ".join(flagged) if flagged else "no drift"
        if not run.results(segment):
            said = "not compared (too few rows now or in the preceding window)"
        console.print(
            f"  {segment} ({run.segments[segment]:,} rows): {said}", highlight=False, markup=False
        )
    if run.performance is not None:
        console.print(f"Performance: {run.performance.describe()}", highlight=False, markup=False)
        for line in _label_checks(run.performance.calibration, run.performance.label_rate):
            console.print(f"  {line}", highlight=False, markup=False)
    for change in outcome.changes:
        style = "red" if change.worse else "green"
        console.print(f"[{style}]Band change:[/] {escape(change.describe())}", highlight=False)
    alert = outcome.alert
    if alert.delivered is True:
        console.print(f"Webhook: delivered {alert.changes} change(s) (HTTP {alert.status}).")
    elif alert.delivered is False:
        console.print(
            f"[yellow]Webhook: not delivered ({escape(alert.error or '')}).[/]", highlight=False
        )
    if run.signals:
        names = ", ".join(
            f"{s.kind}:{s.subject}" + (f"[{s.segment}]" if s.segment else "") for s in run.signals
        )
        console.print(f"Signals: {names}", highlight=False, markup=False)


def drift_table(results: list[FeatureResult], *, title: str) -> Table:
    """Per-column band and statistics."""
    table = Table(
        "column", "band", "PSI", "KS p", "JS", "χ² p", "nulls now", "unseen", "note",
        title=title, title_justify="left",
    )  # fmt: skip
    for f in results:
        style = BAND_STYLE.get(f.state, "")
        band = f"[{style}]{f.state}[/]" + (" ⚑" if f.drifted else "")
        table.add_row(
            escape(f.feature),
            band,
            _num(f.psi),
            _num(f.ks_p_value, ".2g"),
            _num(f.js_distance),
            _num(f.chi2_p_value, ".2g"),
            _num(f.null_share_current, ".1%"),
            escape(", ".join(f.unseen_categories[:3])),
            escape(f.error or ""),
        )
    return table


def print_history(deployment: str, runs: list[RunSummary]) -> None:
    """Stored runs as a table, newest first."""
    if not runs:
        console.print(
            f"No monitoring runs of {deployment!r} yet (cairn monitor run -d {deployment})."
        )
        return
    table = Table(
        "run", "window end", "model", "rows", "drifted", "errors", "performance", "signals",
        "changes", title=f"Monitoring history of {deployment}", title_justify="left",
    )  # fmt: skip
    for r in runs:
        perf: str = r.performance.status if r.performance is not None else "-"
        if r.performance is not None and r.performance.status == "judged":
            perf = ", ".join(
                f"{k} {v:.3f}" for k, v in r.performance.metrics.items() if k in ("auc", "ks")
            )
        table.add_row(
            str(r.run_id),
            from_micros(r.window.end).strftime("%Y-%m-%d %H:%M"),
            f"v{r.model_version}",
            f"{r.rows:,}" if r.status == "ok" else "empty",
            escape(", ".join(r.flagged) or "-"),
            escape(", ".join(r.errors) or "-"),
            perf,
            str(r.signals),
            str(r.changes),
        )
    console.print(table)


def _num(value: float | None, spec: str = ".3f") -> str:
    return "-" if value is None else format(value, spec)


def _label_checks(
    calibration: dict[str, Any] | None, label_rate: dict[str, Any] | None
) -> list[str]:
    """The calibration and label-rate checks of a run's performance, one line each."""
    from cairn.monitoring.calibration_signal import CalibrationCheck
    from cairn.monitoring.label_rate import LabelRateCheck

    out = []
    for data, kind in ((calibration, CalibrationCheck), (label_rate, LabelRateCheck)):
        if data:
            fields = {k: v for k, v in data.items() if k != "raised"}
            out.append(kind(**fields).describe())
    return out
