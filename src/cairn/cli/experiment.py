"""`cairn experiment plan|analyze|compare`: power before, analysis during and after.

``analyze`` compares a deployment's arms on metrics (Rich tables, optional HTML report);
``compare`` judges a shadow challenger against the champion once outcomes arrived.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from cairn.cli._console import RepoOption, console, one_line_errors, parse_time
from cairn.cli.experiment_plan import plan
from cairn.core.errors import ConfigError

if TYPE_CHECKING:
    from cairn.app.experiment_demo import ExperimentDemo
    from cairn.experiments.analysis_results import Comparison, ExperimentAnalysis
    from cairn.experiments.champion.compare import ChampionComparison, ModelMetrics

app = typer.Typer(
    help="Experiments: plan sample sizes, analyze arms, compare champion and challenger.",
    no_args_is_help=True,
)
_STYLE = {"better": "green", "worse": "red", "harm": "bold red", "error": "yellow"}

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
    cuped: Annotated[bool, typer.Option(help="CUPED with the pre-period.")] = True,
    html: Annotated[Path | None, typer.Option(help="Write an HTML report here.")] = None,
    repo: RepoOption = Path("."),
) -> None:
    """Compare a deployment's arms: lift, intervals, p-values, chance to win, SRM, segments.

    Example: cairn experiment analyze credit --metric approval_rate --metric default_rate
    """
    from cairn.app.experiment_demo import analyze_deployment

    if correction not in ("holm", "bh", "bonferroni", "none"):
        raise ConfigError(f"--correction must be holm, bh, bonferroni or none; got {correction!r}.")
    if not 0 < alpha < 1:
        raise ConfigError(f"--alpha must be between 0 and 1; got {alpha}.")
    analysis = analyze_deployment(
        repo.resolve(),
        deployment,
        metric or [],
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
    )
    print_analysis(analysis)
    if html is not None:
        from cairn.experiments.report import write_html

        console.print(f"Report: {write_html(html, analysis)}")


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
    html: Annotated[Path | None, typer.Option(help="Write an HTML report here.")] = None,
    repo: RepoOption = Path("."),
) -> None:
    """Champion vs shadow challenger: DeLong AUC test, KS, calibration, fairness, latency.

    Example: cairn experiment compare credit --challenger credit-default/2
    """
    from cairn.app.experiment_demo import compare_deployment

    if protected is not None and attribute is None:
        raise ConfigError("--protected needs --attribute (the protected attribute's column).")
    result = compare_deployment(
        repo.resolve(),
        deployment,
        challenger,
        as_of=parse_time(as_of, "--as-of"),
        protected=protected,
        attribute=attribute,
        key=key,
        threshold=threshold,
    )
    print_comparison(result)
    if html is not None:
        from cairn.experiments.report import write_html

        console.print(f"Report: {write_html(html, None, result)}")


@app.command("list")
@one_line_errors
def list_command(
    deployment: Annotated[str, typer.Argument(help="Deployment whose experiments to list.")],
    repo: RepoOption = Path("."),
) -> None:
    """List the A/B tests and canaries in a deployment's prediction log, the latest first.

    Example: cairn experiment list credit
    """
    from cairn.app.predictions import connect
    from cairn.core.timeutil import utcnow
    from cairn.experiments.scope import logged_experiments

    with connect(repo.resolve()) as con:
        found = logged_experiments(con, deployment, utcnow())
    if not found:
        console.print(f"No experiments (seeded A/B tests or canaries) in {deployment!r}.")
        return
    table = Table("experiment (seed)", "strategy", "arms", "from", "to", "predictions",
                  title=f"Experiments of {deployment}", title_justify="left")  # fmt: skip
    for e in found:
        table.add_row(e.seed, e.strategy, ", ".join(e.arms), f"{e.start:%Y-%m-%d %H:%M}",
                      f"{e.end:%Y-%m-%d %H:%M}", f"{e.predictions:,}")  # fmt: skip
    console.print(table)


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
        console.print(table)


def _comparison_cells(c: Comparison) -> list[str]:
    style = _STYLE.get(c.verdict, "")
    verdict = f"[{style}]{c.verdict}[/]" if style else c.verdict
    label = f"{c.segment} · {c.arm}" if c.segment else c.arm
    if c.error:  # the reason code; the whole sentence is in the report and to_dict()
        return [label, f"{c.treatment_n:,}", f"{c.treatment_mean:.4g}", *["-"] * 6,
                f"[yellow]{c.error.split(':')[0]}[/]"]  # fmt: skip
    lo, hi = c.relative.ci
    return [
        label,
        f"{c.treatment_n:,}",
        f"{c.treatment_mean:.4g}",
        f"{c.relative.expected:+.2%}",
        f"{_pct(lo)} .. {_pct(hi)}",
        _p(c.p_value),
        _p(c.adjusted_p_value) if c.segment is None else "-",
        f"{c.chance_to_win:.0%}",
        "yes" if c.cuped else "no",
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
    for row in _model_rows(c.champion, c.challenger):
        table.add_row(*row)
    console.print(table)
    style = {"promote": "bold green", "keep": "bold red"}.get(c.recommendation, "bold yellow")
    console.print(f"Recommendation: [{style}]{c.recommendation}[/]")
    for reason in c.reasons:
        console.print(f"  - {reason}")
    for note in c.notes:
        console.print(f"[dim]{note}[/]")


def _model_rows(a: ModelMetrics, b: ModelMetrics) -> list[list[str]]:
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
    rows.append(["approval rate", f"{a.approval_rate:.1%}", f"{b.approval_rate:.1%}"])
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
            table.add_row(m.metric.name, cells[0], f"{c.control_mean:.4g}", *cells[2:])
    console.print(table)


def print_experiment_demo(demo: ExperimentDemo) -> None:
    """The experiment step of the quickstart: the arms, the challenger, the report."""
    print_summary(demo.analysis)
    if demo.comparison is not None:
        print_comparison(demo.comparison)
    elif demo.comparison_note:
        console.print(f"[yellow]{demo.comparison_note}[/]")
    console.print(f"Experiment report: {demo.report}")


def _pct(value: float) -> str:
    return "inf" if value == math.inf else "-inf" if value == -math.inf else f"{value:+.2%}"


def _p(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"
