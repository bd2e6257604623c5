"""`cairn monitor run|report|history`: drift and performance of a deployment's traffic.

Also prints the monitoring part of the quickstart (:func:`print_monitoring_demo`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from cairn.cli._console import RepoOption, console, one_line_errors, parse_time
from cairn.core.timeutil import from_micros

if TYPE_CHECKING:
    from cairn.app.monitoring import MonitoringOutcome
    from cairn.app.monitoring_demo import MonitoringDemo
    from cairn.monitoring.history import RunSummary
    from cairn.monitoring.runs import FeatureResult

app = typer.Typer(
    help="Drift and performance monitoring of deployments (reference profile vs the log).",
    no_args_is_help=True,
)

BAND_STYLE = {"stable": "green", "monitor": "yellow", "drift": "bold red", "error": "magenta"}
DeploymentOption = Annotated[
    str, typer.Option("--deployment", "-d", help="Deployment name (deployments.yaml).")
]


@app.command("run")
@one_line_errors
def run_command(
    deployment: DeploymentOption,
    window: Annotated[str, typer.Option(help="Window length: 1h, 1d, 7d, 30d...")] = "1d",
    segment: Annotated[
        str | None,
        typer.Option(help="Also compute drift per value of this log column, input or key."),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Window end (ISO 8601 with a zone); default now, or the last prediction "
            "when the log ends earlier.",
        ),
    ] = None,
    webhook: Annotated[
        str | None, typer.Option(help="POST band changes here (overrides monitoring.webhook_url).")
    ] = None,
    fail_on_signal: Annotated[
        bool, typer.Option("--fail-on-signal", help="Exit 1 when the run raised a signal.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run as JSON.")] = False,
    repo: RepoOption = Path("."),
) -> None:
    """Monitor a deployment's latest window against its model's reference profile.

    Drift per model input and of the score, realized performance once labels allow; the run
    is stored with history and band changes are alerted (log, webhook).

    Example: cairn monitor run --deployment credit --window 1d --segment home
    """
    from cairn.app.monitoring import ProjectMonitoring

    end = parse_time(as_of, "--as-of") if as_of is not None else None
    outcome = ProjectMonitoring(repo).run(
        deployment, window=window, as_of=end, segment=segment, webhook_url=webhook
    )
    if as_json:
        typer.echo(json.dumps(_run_json(outcome), indent=2, default=str))
    else:
        print_run(outcome)
    if fail_on_signal and outcome.run.signals:
        raise typer.Exit(1)


@app.command("report")
@one_line_errors
def report_command(
    deployment: Annotated[
        str | None, typer.Option("--deployment", "-d", help="Only this deployment.")
    ] = None,
    out: Annotated[Path, typer.Option(help="HTML file to write (relative to --repo).")] = Path(
        "monitor.html"
    ),
    repo: RepoOption = Path("."),
) -> None:
    """Write the monitoring report: distributions, PSI over time, score drift, performance.

    Example: cairn monitor report --deployment credit --out monitor.html
    """
    from cairn.app.monitoring import ProjectMonitoring

    path = ProjectMonitoring(repo).report(out, deployment=deployment)
    console.print(f"Wrote {path}")


@app.command("history")
@one_line_errors
def history_command(
    deployment: DeploymentOption,
    limit: Annotated[int, typer.Option(help="Runs to show at most.", min=1)] = 20,
    repo: RepoOption = Path("."),
) -> None:
    """List a deployment's monitoring runs, newest first.

    Example: cairn monitor history --deployment credit
    """
    from cairn.app.monitoring import ProjectMonitoring

    print_history(deployment, ProjectMonitoring(repo).runs(deployment, limit=limit))


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


def print_monitoring_demo(demo: MonitoringDemo) -> None:
    """The monitoring part of the quickstart: the two months and what monitoring said."""
    console.print(
        f"Logged {demo.predictions:,} predictions over two months (and {demo.outcomes:,} "
        f"outcomes); the second month changed: {'; '.join(demo.changes)}.",
        highlight=False,
    )
    for name, outcome in (("Stable month", demo.stable), ("Drifted month", demo.drifted)):
        run = outcome.run
        flagged = run.flagged()
        console.print(
            f"[bold]{name}[/] (run #{run.run_id}): {run.window.describe()} — "
            f"{escape('drifted: ' + ', '.join(flagged)) if flagged else 'no drift'}",
            highlight=False,
        )
        if run.performance is not None:
            console.print(f"  performance: {run.performance.describe()}", highlight=False)
        for change in outcome.changes:
            console.print(f"  band change: {change.describe()}", highlight=False, markup=False)
    shown = [f for f in demo.drifted.run.results() if f.drifted or f.feature == "score"]
    console.print(drift_table(shown, title="Drifted month: what moved"))
    console.print(f"Report: {demo.report} (cairn monitor report --deployment credit)")


def _run_json(outcome: MonitoringOutcome) -> dict[str, object]:
    run = outcome.run
    return {
        "run_id": run.run_id,
        "deployment": run.deployment,
        "model": {"name": run.model_name, "version": run.model_version},
        "status": run.status,
        "message": run.message,
        "window": {
            "start": run.window.start,
            "end": run.window.end,
            "anchor": run.window.anchor,
            "description": run.window.describe(),
        },
        "rows": run.rows,
        "drifted": run.flagged(),
        "results": [f.to_dict() for f in run.features],
        "performance": run.performance.to_dict() if run.performance is not None else None,
        "signals": [s.to_dict() for s in run.signals],
        "changes": [c.to_dict() for c in outcome.changes],
        "alert": {"delivered": outcome.alert.delivered, "error": outcome.alert.error},
    }


def _num(value: float | None, spec: str = ".3f") -> str:
    return "-" if value is None else format(value, spec)
