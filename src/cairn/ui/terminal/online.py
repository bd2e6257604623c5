"""Materialization results for a terminal."""

from __future__ import annotations

from rich.table import Table

from cairn.online import MaterializeResult
from cairn.ui.terminal.console import console


def print_materialized(results: list[MaterializeResult]) -> None:
    if not results:
        console.print("Nothing new to materialize: every view is at its watermark.")
        return
    table = Table("view", "kind", "records", "tiles", "seconds", title="Materialized")
    for r in results:
        table.add_row(r.view, r.kind, f"{r.records:,}", f"{r.tiles:,}", f"{r.seconds:.2f}")
    console.print(table)
