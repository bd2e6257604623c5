"""`cairn quality validate|history|suggest`: data quality suites from the command line."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cairn.cli._console import CheckFailed, RepoOption, console, one_line_errors, parse_time
from cairn.cli._output import (
    Format,
    FormatOption,
    JsonOption,
    OutOption,
    emit,
    output_format,
)
from cairn.cli._progress import spinner
from cairn.cli._project import open_project
from cairn.core.errors import SourceError

if TYPE_CHECKING:
    from cairn.quality import QualityStore

if TYPE_CHECKING:
    pass

app = typer.Typer(
    help="Data quality suites: validate data, see history, draft suites.", no_args_is_help=True
)


@app.command("validate")
@one_line_errors
def validate_command(
    suite: Annotated[Path, typer.Argument(help="Suite file (YAML, or Great Expectations JSON).")],
    data: Annotated[
        str, typer.Argument(help="Parquet/CSV/Delta path, or the name of an applied source.")
    ],
    rows: Annotated[int | None, typer.Option(help="Failing rows kept per check.")] = None,
    as_json: JsonOption = False,
    fmt: FormatOption = None,
    out: OutOption = None,
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
    from cairn.core.config import CONFIG_FILE
    from cairn.quality import Action, load_suite, validate
    from cairn.ui.rows import validation_rows
    from cairn.ui.terminal.quality import print_result

    chosen = output_format(fmt, as_json, out)
    spec = load_suite(suite)
    keeper = _store(repo) if store else None
    now = None if as_of is None else parse_time(as_of, "--as-of")
    with spinner(f"Validating {data} with suite {spec.name!r}"):
        result = validate(
            spec, _data(data, repo), sample_rows=rows, store=keeper, label=data, now=now
        )
    emit(chosen, validation_rows(result), lambda: print_result(result), out=out, payload=result)
    if store and keeper is None and chosen is Format.table:
        console.print(f"[dim]Not stored: no {CONFIG_FILE} in {repo.resolve()}.[/]")
    if result.action is Action.HALT:
        halted = len(result.halting)
        raise CheckFailed(f"suite {spec.name!r} halted {data}: {halted} check(s) failed (halt).")


@app.command("history")
@one_line_errors
def history_command(
    suite: Annotated[str, typer.Argument(help="Suite name, or its file.")],
    limit: Annotated[int, typer.Option(help="How many runs.")] = 20,
    repo: RepoOption = Path("."),
    as_json: JsonOption = False,
    fmt: FormatOption = None,
    out: OutOption = None,
) -> None:
    """Show the latest runs of a suite, newest first.

    Example: cairn quality history applications --repo ./credit
    """
    from cairn.core.config import CONFIG_FILE
    from cairn.quality import Action, load_suite
    from cairn.ui.output import jsonable
    from cairn.ui.terminal.quality import ACTION_STYLE, verdict_text

    chosen = output_format(fmt, as_json, out)
    name = load_suite(suite).name if suite.endswith((".yaml", ".yml", ".json")) else suite
    keeper = _store(repo)
    if keeper is None:
        raise SourceError(f"No {CONFIG_FILE} in {repo.resolve()}: history lives in a project.")
    runs = keeper.history(name, limit=limit)

    def show() -> None:
        from rich.table import Table

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
                verdict_text(r.verdict),
                f"[{ACTION_STYLE[Action(r.action)]}]{r.action}[/]",
                "-" if r.health is None else f"{r.health:.1f}",
                f"{r.failed}/{r.checks}",
                f"{r.seconds:.2f}",
            )
        console.print(table if runs else f"No stored runs of suite {name!r} in {repo.resolve()}.")

    emit(chosen, [jsonable(r) for r in runs], show, out=out)


@app.command("suggest")
@one_line_errors
def suggest_command(
    data: Annotated[
        Path, typer.Argument(help="Parquet/CSV/Delta data, or the name of an applied source.")
    ],
    name: Annotated[str | None, typer.Option(help="Suite name (default: the data's name).")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the suite here.")] = None,
    profile: Annotated[
        Path | None,
        typer.Option(help="Also write a reference profile here and add PSI checks against it."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print (or write) the suite as JSON, not YAML.")
    ] = False,
    repo: RepoOption = Path("."),
) -> None:
    """Draft a suite from a profile of DATA (review it before use).

    Identifier columns (id, *_id, or nearly all values distinct) get only not-null,
    uniqueness and shape checks; timestamp columns only not-null and freshness; no range,
    value-set or drift check is drafted for either.

    Example: cairn quality suggest data/applications.parquet -o quality/applications.yaml
    """
    from cairn.quality import profile_reference, save_profile, suggest_suite

    source = _data(str(data), repo)
    profiled: list[str] = []
    reference = None
    # printing the suite to stdout: no spinner there, the output may be piped into a file
    busy = spinner(f"Profiling {data}") if out is not None else contextlib.nullcontext()
    with busy:
        if profile is not None:
            profiled_data = profile_reference(source)
            saved = save_profile(profiled_data, profile)
            profiled = list(profiled_data["columns"])
            base = (out or Path("suite.yaml")).resolve().parent
            reference = str(_relative(saved.resolve(), base))
        draft = suggest_suite(
            source, name=name or data.stem, reference=reference, profiled=profiled
        )
    if as_json:
        from cairn.ui.output import json_text

        text = json_text(draft.to_dict()) + "\n"
    else:
        text = draft.to_yaml()
    if out is None:
        typer.echo(text, nl=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    console.print(f"Wrote a draft suite of {len(draft.checks)} checks to {out}.")


def _store(repo: Path) -> QualityStore | None:
    """The project's quality store; None outside a project (a suite can check any file)."""
    from cairn.core.config import CONFIG_FILE

    if not (repo / CONFIG_FILE).is_file():
        return None
    return open_project(repo).quality


def _data(data: str, repo: Path) -> Any:
    from cairn.core.config import CONFIG_FILE

    path = Path(data)
    if path.exists() or not (repo / CONFIG_FILE).is_file():
        return path
    from cairn.features import FileSource, batch_of

    for source in open_project(repo).features.list_sources():
        if source.name == data:
            file_source: FileSource = batch_of(source)
            return file_source.resolve(repo.resolve())
    raise SourceError(f"No data at {path} and no applied source named {data!r} in {repo}.")


def _relative(path: Path, base: Path) -> Path:
    try:
        return path.relative_to(base)
    except ValueError:
        return path
