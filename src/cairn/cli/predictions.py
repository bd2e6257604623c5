"""`cairn predictions query "SQL"`, `cairn predictions compact` and `cairn outcomes load FILE`:
the prediction log."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cairn.cli._console import RepoOption, console, one_line_errors
from cairn.cli._output import FormatOption, JsonOption, OutOption, emit, emit_json, output_format
from cairn.cli._project import open_project

if TYPE_CHECKING:
    pass

predictions_app = typer.Typer(
    help="The prediction log (Parquet segments under .cairn/predictions), read with DuckDB.",
    no_args_is_help=True,
)
outcomes_app = typer.Typer(help="Outcomes (labels) attached to predictions.", no_args_is_help=True)


@predictions_app.command("query")
@one_line_errors
def query_command(
    sql: Annotated[str, typer.Argument(help="SQL over the views `predictions` and `outcomes`.")],
    repo: RepoOption = Path("."),
    limit: Annotated[
        int, typer.Option(help="Rows the table prints at most (json, csv, parquet: all).", min=1)
    ] = 50,
    as_json: JsonOption = False,
    fmt: FormatOption = None,
    out: OutOption = None,
) -> None:
    """Query the prediction log and outcomes with DuckDB.

    Example: cairn predictions query "SELECT decision, count(*) FROM predictions GROUP BY 1"
    --format csv --out decisions.csv
    """
    from cairn.ui.terminal.predictions import print_result

    chosen = output_format(fmt, as_json, out)
    result = open_project(repo).predictions.query(sql)
    rows = [dict(zip(result.columns, row, strict=True)) for row in result.rows]
    emit(chosen, rows, lambda: print_result(result, limit), out=out)


@predictions_app.command("compact")
@one_line_errors
def compact_command(
    repo: RepoOption = Path("."),
    grace: Annotated[
        float,
        typer.Option(
            help="Seconds a replaced segment stays for readers that listed it before the swap.",
            min=0,
        ),
    ] = 600.0,
    as_json: JsonOption = False,
) -> None:
    """Recover what killed servers staged and merge each closed hour's segments into one file.

    Safe while servers write and readers query: no reader sees a gap or a duplicate. Servers
    also do this every 10 minutes; run it after a crash, or from cron.

    Example: cairn predictions compact --repo ./credit
    """
    done = open_project(repo).predictions.compact(grace_s=grace)
    report = {
        log: {
            "recovered": c.recovered,
            "merged": c.merged,
            "replaced": c.replaced,
            "deleted": c.deleted,
        }
        for log, c in done.items()
    }

    def show() -> None:
        for log, c in done.items():
            console.print(
                f"{log}: recovered {c.recovered} staging file(s), merged {c.replaced} segment(s) "
                f"into {len(c.merged)} hourly file(s), deleted {c.deleted} replaced file(s)."
            )

    emit_json(report, as_json, show)


@outcomes_app.command("load")
@one_line_errors
def load_command(
    file: Annotated[Path, typer.Argument(help="CSV, Parquet or JSON-lines file of outcomes.")],
    repo: RepoOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Attach labels by prediction_id, or by join keys + event_time (observed_at optional).

    Example: cairn outcomes load labels.csv --repo ./credit
    """
    n = open_project(repo).predictions.load_outcomes(file)
    emit_json(
        {"loaded": n, "file": str(file)},
        as_json,
        lambda: console.print(f"Loaded {n:,} outcomes from {file}."),
    )
