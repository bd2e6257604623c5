"""`cairn audit log` and `cairn audit verify`: read and check the project's audit chain."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from cairn.cli._console import RepoOption, console, err_console, fail, one_line_errors
from cairn.cli._output import FormatOption, JsonOption, OutOption, emit, emit_json, output_format
from cairn.cli._project import open_project

app = typer.Typer(help="The hash-chained audit log of governance actions.", no_args_is_help=True)


@app.command("log")
@one_line_errors
def log(
    subject: Annotated[
        str | None, typer.Option("--subject", "-s", help="Only this subject (credit/3).")
    ] = None,
    action: Annotated[
        str | None, typer.Option("--action", "-a", help="Only this action (alias.moved).")
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", "-n", help="Only the newest N entries.", min=0)
    ] = None,
    repo: RepoOption = Path("."),
    as_json: JsonOption = False,
    fmt: FormatOption = None,
    out: OutOption = None,
) -> None:
    """List audit entries, oldest first.

    Example: cairn audit log --subject credit@champion --limit 20
    """
    from cairn.ui.output import jsonable

    chosen = output_format(fmt, as_json, out)
    audit = open_project(repo).audit
    entries = audit.entries(subject=subject, action=action, limit=limit)

    def show() -> None:
        from rich.markup import escape
        from rich.table import Table

        table = Table(
            "seq",
            "at",
            "actor",
            "action",
            "subject",
            "details",
            "hash",
            title=f"Audit log of project {audit.project!r}",
        )
        for e in entries:
            table.add_row(
                str(e.seq),
                e.at.isoformat(timespec="seconds"),
                escape(e.actor),
                escape(e.action),
                escape(e.subject),
                escape(json.dumps(e.details, sort_keys=True, ensure_ascii=False)),
                e.hash[:12],
            )
        console.print(table)
        if not entries:
            console.print("No audit entries match.")

    emit(chosen, [jsonable(e) for e in entries], show, out=out)


@app.command("verify")
@one_line_errors
def verify(repo: RepoOption = Path("."), as_json: JsonOption = False) -> None:
    """Recompute the hash chain; exit 1 naming each edited, missing or inserted entry.

    Example: cairn audit verify --repo ./credit
    """
    from rich.markup import escape

    result = open_project(repo).audit.verify()
    if as_json:
        emit_json(result, True, lambda: None)
        if not result.ok:
            raise typer.Exit(1)
        return
    if result.ok:
        console.print(f"[green]chain intact:[/] {result.entries} entries", highlight=False)
        return
    for problem in result.problems:
        err_console.print(f"[red]problem:[/] {escape(problem)}", highlight=False, soft_wrap=True)
    raise fail(
        f"audit chain broken: {len(result.problems)} problem(s) in {result.entries} entries",
        code=1,
    )
