"""`cairn materialize`, `materialize-incremental`, `status`, `consistency check`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cairn.cli._console import CheckFailed, RepoOption, console, one_line_errors, parse_time
from cairn.cli._output import FormatOption, JsonOption, OutOption, emit, emit_json, output_format
from cairn.cli._project import open_project

if TYPE_CHECKING:
    from rich.progress import TaskID

consistency_app = typer.Typer(help="Online/offline consistency.", no_args_is_help=True)
ViewsOption = Annotated[
    list[str] | None, typer.Option("--view", "-v", help="Only this view; repeat for more.")
]


@contextmanager
def _progress() -> Iterator[Callable[[str, int], None]]:
    from rich.progress import (
        BarColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    from cairn.ui.terminal.console import console

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,} rows"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def tick(view: str, rows: int) -> None:
            if view not in tasks:
                tasks[view] = bar.add_task(f"materializing {view}", total=None)
            bar.advance(tasks[view], rows)

        yield tick


@one_line_errors
def materialize(
    start: Annotated[str, typer.Argument(help="Start of event time (ISO 8601 with zone).")],
    end: Annotated[str, typer.Argument(help="End of event time (ISO 8601 with zone, or now).")],
    views: ViewsOption = None,
    repo: RepoOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Load rows with event time in [START, END) known by END into the online store.

    Example: cairn materialize 2026-01-01T00:00:00Z 2026-03-01T00:00:00Z --view txn_stats
    """
    from cairn.ui.terminal.online import print_materialized

    store = open_project(repo).features
    with _progress() as tick:
        results = store.materialize(
            parse_time(start, "START"), parse_time(end, "END"), views, progress=tick
        )
    emit_json(results, as_json, lambda: print_materialized(results))


@one_line_errors
def materialize_incremental(
    end: Annotated[
        str, typer.Argument(help="Up to this time (ISO 8601 with zone, or now).")
    ] = "now",
    views: ViewsOption = None,
    repo: RepoOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Load everything that became visible since each view's watermark, up to END.

    Example: cairn materialize-incremental now
    """
    from cairn.ui.terminal.online import print_materialized

    store = open_project(repo).features
    with _progress() as tick:
        results = store.materialize_incremental(parse_time(end, "END"), views, progress=tick)
    emit_json(results, as_json, lambda: print_materialized(results))


@one_line_errors
def status_command(
    repo: RepoOption = Path("."),
    as_json: JsonOption = False,
    fmt: FormatOption = None,
    out: OutOption = None,
) -> None:
    """Per view: materialization watermark, newest event time, freshness, and the newest
    range run (`cairn materialize START END` loads data without moving the watermark).

    Example: cairn status --repo ./credit --json
    """
    from cairn.app.consistency import status
    from cairn.ui.output import jsonable

    chosen = output_format(fmt, as_json, out)
    store = open_project(repo).features
    rows = status(store)

    def show() -> None:
        from rich.table import Table

        table = Table(
            "view",
            "kind",
            "version",
            "watermark",
            "max event",
            "freshness",
            "last range run",
            title=f"Project {store.project!r}, online store {store.online.store.url}",
        )
        for row in rows:
            fresh = row["freshness_seconds"]
            ranged = row["last_range_end"] is not None
            table.add_row(
                row["view"],
                row["kind"],
                str(row["version"]),
                str(
                    row["watermark"]
                    or ("none (range runs only)" if ranged else "never materialized")
                ),
                str(row["max_event"] or "-"),
                "-" if fresh is None else f"{fresh:,.0f} s",
                f"[{row['last_range_start'] or 'start'}, {row['last_range_end']}) "
                f"{row['last_range_rows']:,} rows"
                if ranged
                else "-",
            )
        console.print(table)

    emit(chosen, [jsonable(r) for r in rows], show, out=out)


@consistency_app.command("check")
@one_line_errors
def consistency_check(
    view: Annotated[str, typer.Argument(help="Feature view to check.")],
    sample: Annotated[int, typer.Option("--sample", "-n", help="Keys to sample.", min=1)] = 100,
    at: Annotated[
        str | None, typer.Option(help="Compare at this time (default: the view's watermark).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the key sample.")] = 0,
    repo: RepoOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Compare online values with the offline point-in-time join for sampled keys.

    Example: cairn consistency check txn_stats --sample 500
    """
    from rich.table import Table

    from cairn.app.consistency import check_consistency

    store = open_project(repo).features
    report = check_consistency(
        store, view, sample, None if at is None else parse_time(at, "--at"), seed
    )
    if as_json:
        emit_json({**vars(report), "ok": report.ok}, True, lambda: None)
    else:
        table = Table(
            "feature",
            "compared",
            "null both",
            "null one side",
            "mismatches",
            title=f"{report.keys} keys of {view!r} at {report.at.isoformat()}",
        )
        for feature, bad in report.mismatches.items():
            table.add_row(
                feature,
                str(report.compared[feature]),
                str(report.both_null[feature]),
                str(report.one_sided[feature]),
                f"[red]{bad}[/]" if bad else "[green]0[/]",
            )
        console.print(table)
        for example in report.examples:
            console.print(f"  mismatch: {example}", highlight=False)
    if not report.ok:
        raise CheckFailed(f"{view!r}: {report.verdict()}")
