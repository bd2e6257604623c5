"""`cairn experiment plan|analyze|compare`: power before, analysis during and after.

``analyze`` compares a deployment's arms on metrics (Rich tables, optional HTML report);
``compare`` judges a shadow challenger against the champion once outcomes arrived.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cairn.cli._console import RepoOption, console, one_line_errors, parse_time
from cairn.cli._output import FormatOption, JsonOption, OutOption, emit, notes, output_format
from cairn.cli._project import open_project
from cairn.cli.experiment_plan import plan
from cairn.core.errors import ConfigError

if TYPE_CHECKING:
    pass

app = typer.Typer(
    help="Experiments: plan sample sizes, analyze arms, compare champion and challenger.",
    no_args_is_help=True,
)

app.command("plan")(plan)


@app.command("analyze")
@one_line_errors
def analyze_command(
    deployment: Annotated[str, typer.Argument(help="Deployment whose arms to compare.")],
    metric: Annotated[
        list[str] | None,
        typer.Option("--metric", "-m", help="Metric to analyze (repeat); default: all."),
    ] = None,
    experiment: Annotated[
        str | None, typer.Option(help="Experiment seed (see `list`; default: the latest).")
    ] = None,
    control: Annotated[
        str | None, typer.Option(help="Control arm (default: control/main/champion).")
    ] = None,
    segment: Annotated[
        str | None, typer.Option(help="Break down by a log column or features->>'name'.")
    ] = None,
    max_segments: Annotated[int, typer.Option(help="Largest segments kept.", min=1)] = 10,
    as_of: Annotated[str, typer.Option(help="Analysis time (ISO 8601 or 'now').")] = "now",
    start: Annotated[
        str | None, typer.Option(help="Experiment start (default: the rollout's).")
    ] = None,
    sequential: Annotated[bool, typer.Option(help="Always-valid sequential intervals.")] = False,
    n_star: Annotated[float, typer.Option(help="Sequential tuning: total units.")] = 10_000,
    correction: Annotated[str, typer.Option(help="holm, bh, bonferroni or none.")] = "holm",
    alpha: Annotated[float, typer.Option(help="Significance level.")] = 0.05,
    weights: Annotated[
        str | None, typer.Option(help="Arm weights for SRM, e.g. control=50,treatment=50.")
    ] = None,
    cuped: Annotated[
        bool,
        typer.Option(
            help="CUPED for the metrics whose experiments.yaml declares a covariate "
            "(--no-cuped: none; undeclared metrics are never adjusted)."
        ),
    ] = True,
    html: Annotated[Path | None, typer.Option(help="Write an HTML report here.")] = None,
    repo: RepoOption = Path("."),
    as_json: JsonOption = False,
    fmt: FormatOption = None,
    out: OutOption = None,
) -> None:
    """Compare a deployment's arms: lift, intervals, p-values, chance to win, SRM, segments.

    Metrics: the built-ins (positive_rate, negative_rate, label_rate,
    label_rate_among_negative, score, latency_ms, error_rate; credit deployments also
    approval_rate, default_rate, bad_rate_among_approved) and experiments.yaml's. Outcome
    metrics count predictions older than the deployment's label maturity (deployments.yaml).

    Example: cairn experiment analyze credit --metric approval_rate --metric default_rate
    """
    from cairn.experiments import MetricCatalog, analyze_deployment
    from cairn.ui.rows import analysis_rows
    from cairn.ui.terminal.experiments import print_analysis

    if correction not in ("holm", "bh", "bonferroni", "none"):
        raise ConfigError(f"--correction must be holm, bh, bonferroni or none; got {correction!r}.")
    if not 0 < alpha < 1:
        raise ConfigError(f"--alpha must be between 0 and 1; got {alpha}.")
    chosen = output_format(fmt, as_json, out)
    project = open_project(repo)
    analysis = analyze_deployment(
        project.predictions,
        deployment,
        metric or [],
        catalog=MetricCatalog.load(project.root),
        splits=project.rollout_store,
        seed=experiment,
        weights=parse_weights(weights) if weights else None,
        start=parse_time(start, "--start") if start else None,
        control=control,
        as_of=parse_time(as_of, "--as-of"),
        segment=segment,
        max_segments=max_segments,
        sequential_test=sequential,
        n_star=n_star,
        correction=None if correction == "none" else correction,
        alpha=alpha,
        cuped=cuped,
        deployments=project.deployments(),
    )
    emit(
        chosen, analysis_rows(analysis), lambda: print_analysis(analysis), out=out, payload=analysis
    )
    if html is not None:
        from cairn.experiments.report import write_html

        notes(chosen).print(f"Report: {write_html(html, analysis)}")


@app.command("compare")
@one_line_errors
def compare_command(
    deployment: Annotated[str, typer.Argument(help="Deployment with a shadow challenger.")],
    challenger: Annotated[
        str | None, typer.Option(help="Shadow model NAME or NAME/VERSION (default: the only one).")
    ] = None,
    protected: Annotated[
        Path | None, typer.Option(help="Parquet/CSV with a protected attribute per entity.")
    ] = None,
    attribute: Annotated[str | None, typer.Option(help="Protected attribute column.")] = None,
    key: Annotated[str | None, typer.Option(help="Entity key column of --protected.")] = None,
    threshold: Annotated[
        float | None, typer.Option(help="Operating threshold (default: deployments.yaml).")
    ] = None,
    as_of: Annotated[str, typer.Option(help="Analysis time (ISO 8601 or 'now').")] = "now",
    maturity: Annotated[
        str | None,
        typer.Option(
            metavar="DURATION",
            help="Count labels of requests at least this old, e.g. 30d (default: the "
            "deployment's label maturity in deployments.yaml).",
        ),
    ] = None,
    html: Annotated[Path | None, typer.Option(help="Write an HTML report here.")] = None,
    repo: RepoOption = Path("."),
    as_json: JsonOption = False,
    fmt: FormatOption = None,
    out: OutOption = None,
) -> None:
    """Champion vs shadow challenger: DeLong AUC test, KS, calibration, fairness, latency.

    Decisions, the favorable-decision rate and adverse impact use the deployment's decision
    vocabulary; the output states which label maturity it used.

    Example: cairn experiment compare credit --challenger credit-default/2 --maturity 90d
    """
    from cairn.core.timeutil import parse_duration
    from cairn.experiments import MetricCatalog, compare_deployment
    from cairn.ui.rows import comparison_rows
    from cairn.ui.terminal.experiments import print_comparison

    if protected is not None and attribute is None:
        raise ConfigError("--protected needs --attribute (the protected attribute's column).")
    chosen = output_format(fmt, as_json, out)
    project = open_project(repo)
    result = compare_deployment(
        project.predictions,
        deployment,
        challenger,
        catalog=MetricCatalog.load(project.root),
        as_of=parse_time(as_of, "--as-of"),
        protected=protected,
        attribute=attribute,
        key=key,
        threshold=threshold,
        deployments=project.deployments(),
        maturity=None if maturity is None else parse_duration(maturity, owner="--maturity"),
    )
    emit(chosen, comparison_rows(result), lambda: print_comparison(result), out=out, payload=result)
    if html is not None:
        from cairn.experiments.report import write_html

        notes(chosen).print(f"Report: {write_html(html, None, result)}")


@app.command("list")
@one_line_errors
def list_command(
    deployment: Annotated[str, typer.Argument(help="Deployment whose experiments to list.")],
    repo: RepoOption = Path("."),
    as_json: JsonOption = False,
    fmt: FormatOption = None,
    out: OutOption = None,
) -> None:
    """List the A/B tests and canaries in a deployment's prediction log, the latest first.

    Example: cairn experiment list credit --json
    """
    from cairn.core.timeutil import utcnow
    from cairn.experiments.scope import logged_experiments
    from cairn.ui.output import jsonable

    chosen = output_format(fmt, as_json, out)
    with open_project(repo).predictions.connect() as con:
        found = logged_experiments(con, deployment, utcnow())

    def show() -> None:
        from rich.table import Table

        if not found:
            console.print(f"No experiments (seeded A/B tests or canaries) in {deployment!r}.")
            return
        table = Table("experiment (seed)", "strategy", "arms", "from", "to", "predictions",
                      title=f"Experiments of {deployment}", title_justify="left")  # fmt: skip
        for e in found:
            table.add_row(e.seed, e.strategy, ", ".join(e.arms), f"{e.start:%Y-%m-%d %H:%M}",
                          f"{e.end:%Y-%m-%d %H:%M}", f"{e.predictions:,}")  # fmt: skip
        console.print(table)

    emit(chosen, [jsonable(e) for e in found], show, out=out)


def parse_weights(text: str) -> dict[str, float]:
    """``control=50,treatment=50`` as a mapping; anything else is a ConfigError.

    Example
    -------
    >>> parse_weights("control=50, treatment=50")
    {'control': 50.0, 'treatment': 50.0}
    """
    out: dict[str, float] = {}
    for part in text.split(","):
        name, sep, value = part.partition("=")
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not sep or not name.strip() or not math.isfinite(number) or number < 0:
            raise ConfigError(
                f"--weights must look like control=50,treatment=50 (non-negative numbers); "
                f"got {text!r}."
            )
        out[name.strip()] = number
    return out
