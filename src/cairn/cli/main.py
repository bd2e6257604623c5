"""The `cairn` command: thin commands that parse, call the app, and print."""

from __future__ import annotations

import typer

from cairn.cli import (
    audit,
    auth,
    config,
    dashboard,
    deploy,
    experiment,
    features,
    lineage,
    models,
    monitor,
    online,
    predictions,
    quality,
    quickstart,
    retrain,
    runs,
    score,
    serve,
    stream,
    train,
)
from cairn.cli._console import one_line_errors

app = typer.Typer(
    name="cairn",
    help=(
        "Cairn: the model lifecycle in one project folder. Define features, build "
        "point-in-time training sets, check data quality, train and register models under "
        "four-eyes governance, serve them with reason codes, roll them out (canary, A/B, "
        "shadow), analyze experiments, score history as of any time, and monitor drift and "
        "performance.\n\nStart with `cairn quickstart` (the example credit project) or "
        "`cairn init DIR` (your own). Commands that print results take --json (and "
        "--format csv|parquet --out FILE where rows come back).\n\n"
        "Exit codes, the same for every command: 0 ok; 1 a check or gate said no (a quality "
        "halt in `quality validate` or `training-set --quality`, `monitor run "
        "--fail-on-signal` with a signal, `audit verify|checkpoint` on a broken chain, "
        "`config check` with a problem, `consistency check` with mismatches) or a governance "
        "refusal (four eyes, self-approval, a missing approval, a role too low); 2 bad input "
        "or usage (one line naming the input; also no token, or one that proves nobody); 3 an "
        "unexpected error (a bug; the traceback is printed)."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command()(quickstart.init)
app.command()(quickstart.quickstart)
app.add_typer(config.app, name="config")
app.command()(features.apply)
app.command("training-set")(features.training_set)
app.add_typer(features.app, name="features")
app.command()(online.materialize)
app.command("materialize-incremental")(online.materialize_incremental)
app.command("status")(online.status_command)
app.add_typer(online.consistency_app, name="consistency")
app.add_typer(stream.app, name="stream")
app.command()(serve.serve)
app.command()(dashboard.ui)
app.command()(score.score)
app.add_typer(quality.app, name="quality")
app.add_typer(audit.app, name="audit")
app.add_typer(auth.app, name="auth")
app.command()(train.train)
app.add_typer(models.app, name="models")
app.add_typer(runs.app, name="runs")
app.command()(lineage.lineage)
app.add_typer(predictions.predictions_app, name="predictions")
app.add_typer(predictions.outcomes_app, name="outcomes")
app.add_typer(deploy.app, name="deploy")
app.add_typer(experiment.app, name="experiment")
app.add_typer(monitor.app, name="monitor")
app.add_typer(retrain.app, name="retrain")


@app.command()
@one_line_errors
def version() -> None:
    """Print Cairn's version.

    Example: cairn version
    """
    from cairn.core.version import package_version

    typer.echo(package_version())


def main() -> None:
    """Entry point of the `cairn` script."""
    app()
