"""`cairn monitor run|report|history`: drift and performance of a deployment's traffic.

Also prints the monitoring part of the quickstart (:func:`print_monitoring_demo`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cairn.cli._console import CheckFailed, RepoOption, console, one_line_errors, parse_time
from cairn.cli._output import FormatOption, JsonOption, OutOption, emit, output_format
from cairn.cli._project import open_project

if TYPE_CHECKING:
    from cairn.monitoring.service import MonitoringOutcome

app = typer.Typer(
    help="Drift and performance monitoring of deployments (reference profile vs the log).",
    no_args_is_help=True,
)

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
    version: Annotated[
        str | None, typer.Option("--version", help="Only this model version's traffic.")
    ] = None,
    arm: Annotated[
        str | None, typer.Option("--arm", help="Only this A/B or canary arm's traffic.")
    ] = None,
    repo: RepoOption = Path("."),
) -> None:
    """Monitor a deployment's latest window against its model's reference profile.

    One run per group of the traffic — each model version and arm, and each shadow model —
    against that version's own reference profile: drift per model input and of the score,
    realized performance, calibration and the label rate once labels allow; runs are stored
    with history and band changes are alerted (log, webhook).

    Example: cairn monitor run --deployment credit --window 1d --segment home --version 2
    """
    from cairn.ui.terminal.monitoring import print_run

    end = parse_time(as_of, "--as-of") if as_of is not None else None
    outcomes = open_project(repo).monitoring.run_groups(
        deployment, window=window, as_of=end, segment=segment, webhook_url=webhook,
        version=version, arm=arm,
    )  # fmt: skip
    if as_json:
        body = {**_run_json(outcomes[0]), "groups": [_run_json(o) for o in outcomes]}
        typer.echo(json.dumps(body, indent=2, default=str))
    else:
        for outcome in outcomes:
            if len(outcomes) > 1:
                console.print(f"\nGroup {outcome.run.window.group()}:", markup=False)
            print_run(outcome)
    count = sum(len(o.run.signals) for o in outcomes)
    if fail_on_signal and count:
        raise CheckFailed(f"{deployment!r}: {count} signal(s) raised (--fail-on-signal).")


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
    path = open_project(repo).monitoring.report(out, deployment=deployment)
    console.print(f"Wrote {path}")


@app.command("history")
@one_line_errors
def history_command(
    deployment: DeploymentOption,
    limit: Annotated[int, typer.Option(help="Runs to show at most.", min=1)] = 20,
    repo: RepoOption = Path("."),
    as_json: JsonOption = False,
    fmt: FormatOption = None,
    out: OutOption = None,
) -> None:
    """List a deployment's monitoring runs, newest first.

    Example: cairn monitor history --deployment credit --json
    """
    from cairn.ui.output import jsonable
    from cairn.ui.terminal.monitoring import print_history

    chosen = output_format(fmt, as_json, out)
    runs = open_project(repo).monitoring.runs(deployment, limit=limit)
    emit(chosen, [jsonable(r) for r in runs], lambda: print_history(deployment, runs), out=out)


def _run_json(outcome: MonitoringOutcome) -> dict[str, object]:
    run = outcome.run
    return {
        "run_id": run.run_id,
        "deployment": run.deployment,
        "model": {"name": run.model_name, "version": run.model_version},
        "group": {
            "version": run.window.model_version,
            "arm": run.window.arm,
            "shadow": run.window.shadow,
            "description": run.window.group(),
        },
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
