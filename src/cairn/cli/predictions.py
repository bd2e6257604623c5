"""`cairn predictions query "SQL"` and `cairn outcomes load FILE`: the prediction log."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from cairn.cli._console import RepoOption, console, one_line_errors

if TYPE_CHECKING:
    from cairn.app.predictions import QueryResult
    from cairn.app.serving_demo import ServingDemo

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
    limit: Annotated[int, typer.Option(help="Rows to print at most.", min=1)] = 50,
) -> None:
    """Query the prediction log and outcomes with DuckDB.

    Example: cairn predictions query "SELECT decision, count(*) FROM predictions GROUP BY 1"
    """
    from cairn.app.predictions import query

    print_result(query(repo.resolve(), sql), limit)


@outcomes_app.command("load")
@one_line_errors
def load_command(
    file: Annotated[Path, typer.Argument(help="CSV, Parquet or JSON-lines file of outcomes.")],
    repo: RepoOption = Path("."),
) -> None:
    """Attach labels by prediction_id, or by join keys + event_time (observed_at optional).

    Example: cairn outcomes load labels.csv --repo ./credit
    """
    from cairn.app.predictions import load_outcomes

    n = load_outcomes(repo.resolve(), file)
    console.print(f"Loaded {n:,} outcomes from {file}.")


def print_result(result: QueryResult, limit: int = 50, title: str | None = None) -> None:
    """A query result as a table (at most ``limit`` rows)."""
    table = Table(*result.columns, title=title, title_justify="left")
    for row in result.rows[:limit]:
        table.add_row(*(_cell(v) for v in row))
    console.print(table)
    if len(result.rows) > limit:
        console.print(f"... {len(result.rows) - limit:,} more rows")


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def print_serving_demo(demo: ServingDemo) -> None:
    """The serving half of the quickstart: a declined decision, its reasons, the log."""
    d = demo.declined
    console.print(
        f"Served {demo.requests} predictions at {demo.url} (client round trip p50 "
        f"{demo.client_p50_ms:.2f} ms)."
    )
    console.print(
        f"Declined: prediction {d['prediction_id']} by {d['model']['name']} "
        f"v{d['model']['version']}, score {d['score']:.3f} (server {d['latency_ms']:.2f} ms)"
    )
    reasons = Table(
        "code",
        "reason",
        "feature",
        "value",
        "contribution",
        title="Reason codes",
        title_justify="left",
    )
    for r in d["reason_codes"]:
        reasons.add_row(
            r["code"], r["text"], r["feature"], _cell(r["value"]), f"{r['contribution']:+.3f}"
        )
    console.print(reasons)
    console.print(d["summary"])
    console.print(f"Loaded {demo.outcomes_loaded} outcomes through POST /v1/outcomes.")
    print_result(
        demo.log, title='cairn predictions query "... FROM predictions LEFT JOIN outcomes ..."'
    )
