"""Query results over the prediction log for a terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.table import Table

from cairn.ui.terminal.console import console

if TYPE_CHECKING:
    from cairn.serving.log_reader import QueryResult


def print_result(result: QueryResult, limit: int = 50, title: str | None = None) -> None:
    """A query result as a table (at most ``limit`` rows)."""
    table = Table(*result.columns, title=title, title_justify="left")
    for row in result.rows[:limit]:
        table.add_row(*(cell_text(v) for v in row))
    console.print(table)
    if len(result.rows) > limit:
        console.print(f"... {len(result.rows) - limit:,} more rows")


def cell_text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
