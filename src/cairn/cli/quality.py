"""`cairn quality validate|history|suggest`: data quality suites from the command line."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from cairn.cli._console import RepoOption, console, one_line_errors, parse_time
from cairn.cli._progress import spinner
from cairn.core.config import CONFIG_FILE, Settings
from cairn.core.errors import SourceError
from cairn.quality import (
    Action,
    CheckResult,
    Dimension,
    QualityStore,
    ValidationResult,
    load_suite,
    profile_reference,
    save_profile,
    suggest_suite,
    validate,
)

if TYPE_CHECKING:
    from cairn.quality.demo import QualityDemo

app = typer.Typer(
    help="Data quality suites: validate data, see history, draft suites.", no_args_is_help=True
)
_STYLE = {Action.HALT: "bold red", Action.WARN: "yellow", Action.LOG: "cyan", Action.NONE: "green"}


@app.command("validate")
@one_line_errors
def validate_command(
    suite: Annotated[Path, typer.Argument(help="Suite file (YAML, or Great Expectations JSON).")],
    data: Annotated[
        str, typer.Argument(help="Parquet/CSV/Delta path, or the name of an applied source.")
    ],
    rows: Annotated[int | None, typer.Option(help="Failing rows kept per check.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    store: Annotated[bool, typer.Option(help="Keep the result in the project's store.")] = True,
    as_of: Annotated[
        str | None,
        typer.Option(help="Measure freshness at this ISO time (e.g. 2026-07-10T00:00:00Z)."),
    ] = None,
    repo: RepoOption = Path("."),
) -> None:
    """Validate DATA with SUITE; print every check and the health score. Exits 1 when a
    failing check's action is halt.

    Example: cairn quality validate quality/applications.yaml data/applications.parquet
    """
    spec = load_suite(suite)
    keeper = _store(repo) if store else None
    now = None if as_of is None else parse_time(as_of, "--as-of")
    with spinner(f"Validating {data} with suite {spec.name!r}"):
        result = validate(
            spec, _data(data, repo), sample_rows=rows, store=keeper, label=data, now=now
        )
    if as_json:
        typer.echo(result.to_json())
    else:
        print_result(result)
        if store and keeper is None:
            console.print(f"[dim]Not stored: no {CONFIG_FILE} in {repo.resolve()}.[/]")
    if result.action is Action.HALT:
        raise typer.Exit(1)


@app.command("history")
@one_line_errors
def history_command(
    suite: Annotated[str, typer.Argument(help="Suite name, or its file.")],
    limit: Annotated[int, typer.Option(help="How many runs.")] = 20,
    repo: RepoOption = Path("."),
) -> None:
    """Show the latest runs of a suite, newest first.

    Example: cairn quality history applications --repo ./credit
    """
    name = load_suite(suite).name if suite.endswith((".yaml", ".yml", ".json")) else suite
    keeper = _store(repo)
    if keeper is None:
        raise SourceError(f"No {CONFIG_FILE} in {repo.resolve()}: history lives in a project.")
    runs = keeper.history(name, limit=limit)
    table = Table(
        "run",
        "started (UTC)",
        "data",
        "rows",
        "verdict",
        "action",
        "health",
        "failed",
        "seconds",
        title=f"Quality history of {name!r}",
        title_justify="left",
    )
    for r in runs:
        table.add_row(
            str(r.run_id),
            f"{r.started_at:%Y-%m-%d %H:%M:%S}",
            r.data,
            f"{r.rows:,}",
            _verdict(r.verdict),
            f"[{_STYLE[Action(r.action)]}]{r.action}[/]",
            "-" if r.health is None else f"{r.health:.1f}",
            f"{r.failed}/{r.checks}",
            f"{r.seconds:.2f}",
        )
    console.print(table if runs else f"No stored runs of suite {name!r} in {repo.resolve()}.")


@app.command("suggest")
@one_line_errors
def suggest_command(
    data: Annotated[Path, typer.Argument(help="Parquet/CSV/Delta data to profile.")],
    name: Annotated[str | None, typer.Option(help="Suite name (default: the data's name).")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the suite here.")] = None,
    profile: Annotated[
        Path | None,
        typer.Option(help="Also write a reference profile here and add PSI checks against it."),
    ] = None,
) -> None:
    """Draft a suite from a profile of DATA (review it before use).

    Example: cairn quality suggest data/applications.parquet -o quality/applications.yaml
    """
    profiled: list[str] = []
    reference = None
    # printing the suite to stdout: no spinner there, the output may be piped into a file
    busy = spinner(f"Profiling {data}") if out is not None else contextlib.nullcontext()
    with busy:
        if profile is not None:
            profiled_data = profile_reference(data)
            saved = save_profile(profiled_data, profile)
            profiled = list(profiled_data["columns"])
            base = (out or Path("suite.yaml")).resolve().parent
            reference = str(_relative(saved.resolve(), base))
        draft = suggest_suite(data, name=name or data.stem, reference=reference, profiled=profiled)
    text = draft.to_yaml()
    if out is None:
        typer.echo(text, nl=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    console.print(f"Wrote a draft suite of {len(draft.checks)} checks to {out}.")


def print_result(result: ValidationResult, *, failing_rows: int = 3) -> None:
    """The Rich report of one run: every check, the health score, failing rows, verdict."""
    table = Table(
        "#",
        "check",
        "target",
        "layer",
        "severity",
        "result",
        "observed",
        "unexpected",
        "action",
        title=f"Suite {escape(result.suite)!r} on {escape(result.data)} ({result.rows:,} rows)",
        title_justify="left",
    )
    for c in result.checks:
        table.add_row(
            str(c.index),
            c.expectation.removeprefix("expect_"),
            escape(c.target),
            str(c.layer),
            str(c.severity),
            "[green]pass[/]" if c.success else "[red]FAIL[/]",
            escape(_observed(c)),
            _unexpected(c),
            "-" if c.success else f"[{_STYLE[c.action]}]{c.action}[/]",
        )
    console.print(table)
    print_health(result)
    for c in result.failures:
        if c.failing_rows:
            shown = ", ".join(_failing_row(r) for r in c.failing_rows[:failing_rows])
            more = (c.unexpected_count or 0) - min(failing_rows, len(c.failing_rows))
            tail = f" … and {more:,} more" if more > 0 else ""
            console.print(f"  #{c.index} failing rows: {shown}{tail}", markup=False)
        if c.message:
            console.print(f"  #{c.index}: {c.message}", markup=False)
    stored = f" Stored as run {result.run_id}." if result.run_id is not None else ""
    queries = f"{result.queries} {'query' if result.queries == 1 else 'queries'}"
    console.print(
        f"{_verdict(result.verdict)}: action [{_STYLE[result.action]}]{result.action}[/] "
        f"({len(result.failures)} of {len(result.checks)} checks failed; {queries}, "
        f"{result.seconds:.2f} s).{stored}"
    )


def print_health(result: ValidationResult) -> None:
    """One line: the overall score and each dimension."""
    health = result.health
    dims = " · ".join(
        f"{d.value} {'-' if health.dimensions[d] is None else f'{health.dimensions[d]:.1f}'}"
        for d in Dimension
    )
    score = "-" if health.score is None else f"{health.score:.1f}"
    console.print(f"Health [bold]{score}[/] / 100  ({dims})")


def print_demo(demo: QualityDemo) -> None:
    """The quality step of the quickstart: each example suite, then the broken batch halted."""
    table = Table(
        "suite",
        "data",
        "rows",
        "checks",
        "health",
        "verdict",
        "seconds",
        title=f"Data quality (freshness as of {demo.as_of:%Y-%m-%d %H:%M} UTC, the end of the "
        f"demo data)",
        title_justify="left",
    )
    for r in demo.results:
        passed = sum(c.success for c in r.checks)
        health = "-" if r.health.score is None else f"{r.health.score:.1f}"
        table.add_row(
            r.suite,
            r.data,
            f"{r.rows:,}",
            f"{passed}/{len(r.checks)} pass",
            health,
            _verdict(r.verdict),
            f"{r.seconds:.2f}",
        )
    console.print(table)
    broken = demo.broken
    console.print("Broken batch: " + "; ".join(demo.faults) + ".", markup=False)
    failed = Table("#", "check", "target", "severity", "observed", "unexpected", "action")
    for c in broken.failures:
        failed.add_row(
            str(c.index),
            c.expectation.removeprefix("expect_"),
            c.target,
            str(c.severity),
            _observed(c),
            _unexpected(c),
            f"[{_STYLE[c.action]}]{c.action}[/]",
        )
    console.print(failed)
    print_health(broken)
    if demo.halted:
        console.print(Panel(escape(demo.halted), title="Halted", title_align="left", style="red"))


def _store(repo: Path) -> QualityStore | None:
    if not (repo / CONFIG_FILE).is_file():
        return None
    settings = Settings.load(repo)
    return QualityStore(settings.metadata.url, project=settings.project, root=repo.resolve())


def _data(data: str, repo: Path) -> Any:
    path = Path(data)
    if path.exists() or not (repo / CONFIG_FILE).is_file():
        return path
    from cairn.app.feature_store import FeatureStore
    from cairn.features import FileSource, batch_of

    for source in FeatureStore(repo).list_sources():
        if source.name == data:
            file_source: FileSource = batch_of(source)
            return file_source.resolve(repo.resolve())
    raise SourceError(f"No data at {path} and no applied source named {data!r} in {repo}.")


def _relative(path: Path, base: Path) -> Path:
    try:
        return path.relative_to(base)
    except ValueError:
        return path


def _verdict(verdict: str) -> str:
    return "[green]passed[/]" if verdict == "passed" else "[bold red]FAILED[/]"


def _observed(c: CheckResult) -> str:
    value = c.observed
    if c.unexpected_share is not None:
        return "-"  # a row-level check: see the unexpected column
    if isinstance(value, float):
        text = f"{value:.4g}"
    elif isinstance(value, dict) and "values" in value:
        text = ", ".join(f"{v:.4g}" for v in value["values"])
    else:
        text = json.dumps(value, default=str)
    if c.details.get("band"):
        text += f" ({c.details['band']})"
    return text if len(text) <= 40 else text[:37] + "..."


def _unexpected(c: CheckResult) -> str:
    if c.unexpected_count is None:
        return "-"
    if c.unexpected_share is None:
        return f"{c.unexpected_count:,}"
    return f"{c.unexpected_count:,} ({c.unexpected_share:.2%})"


def _failing_row(row: Any) -> str:
    values = ", ".join(f"{k}={v}" for k, v in (row.get("values") or {}).items())
    return f"row {row.get('row')} ({values})"
