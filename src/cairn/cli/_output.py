"""Machine-readable output for commands: ``--json``, ``--format table|json|csv|parquet`` and
``--out FILE``.

A command that returns rows prints a table by default; ``--json`` (or ``--format json``)
prints JSON (the result's own ``to_dict()`` where it has one); ``--format csv`` prints CSV;
``--out FILE`` writes JSON, CSV or Parquet there instead (the format from ``--format`` or the
file's suffix). The writers load on first use (:mod:`cairn.ui.output`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cairn.core.errors import ConfigError

if TYPE_CHECKING:
    from rich.console import Console

__all__ = [
    "Format",
    "FormatOption",
    "JsonOption",
    "OutOption",
    "emit",
    "emit_json",
    "notes",
    "output_format",
]


class Format(StrEnum):
    """How a command prints its result."""

    table = "table"
    json = "json"
    csv = "csv"
    parquet = "parquet"


JsonOption = Annotated[
    bool, typer.Option("--json", help="Print the result as JSON (same as --format json).")
]
FormatOption = Annotated[
    Format | None,
    typer.Option(
        "--format",
        help="table (default), json, csv or parquet (parquet needs --out).",
        show_default=False,
    ),
]
OutOption = Annotated[
    Path | None,
    typer.Option(
        "--out",
        "-o",
        help="Write the rows to this file (.json, .csv or .parquet; or as --format says).",
    ),
]
_SUFFIXES = {".json": Format.json, ".csv": Format.csv, ".parquet": Format.parquet}


def output_format(fmt: Format | None, as_json: bool = False, out: Path | None = None) -> Format:
    """The format a command prints in, from ``--format``, ``--json`` and ``--out``.

    Example
    -------
    >>> output_format(None), output_format(None, True), output_format(None, out=Path("a.csv"))
    (<Format.table: 'table'>, <Format.json: 'json'>, <Format.csv: 'csv'>)
    """
    if as_json and fmt not in (None, Format.json):
        raise ConfigError(f"Give --json or --format {fmt}, not both.")
    if as_json:
        return Format.json
    if fmt is None and out is not None:
        found = _SUFFIXES.get(out.suffix.lower())
        if found is None:
            raise ConfigError(
                f"--out {str(out)!r}: give --format json, csv or parquet, or a file ending in "
                f".json, .csv or .parquet."
            )
        return found
    chosen = fmt or Format.table
    if chosen is Format.parquet and out is None:
        raise ConfigError("--format parquet writes a file: give --out FILE.parquet.")
    if chosen is Format.table and out is not None:
        raise ConfigError("--out writes json, csv or parquet; give --format json, csv or parquet.")
    return chosen


def emit(
    fmt: Format,
    rows: Sequence[Mapping[str, Any]],
    table: Callable[[], None],
    *,
    out: Path | None = None,
    payload: Any = None,
) -> None:
    """Print (or write to ``out``) a command's result in ``fmt``.

    Parameters
    ----------
    rows:
        The result as rows (what csv and parquet hold; JSON too when there is no payload).
    table:
        Prints the result for people (the default format).
    payload:
        The whole result for JSON, when it holds more than its rows.
    """
    if fmt is Format.table:
        table()
        return
    from cairn.ui.output import csv_text, json_text, write_rows

    if fmt is Format.json and payload is not None:
        text = json_text(payload)
        if out is None:
            typer.echo(text)
            return
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n", encoding="utf-8")
        _wrote(out, "the result")
        return
    if out is None:
        typer.echo(json_text(list(rows)) if fmt is Format.json else csv_text(rows), nl=False)
        if fmt is Format.json:
            typer.echo("")
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    n = write_rows(rows, out, fmt.value)
    _wrote(out, f"{n:,} rows")


def emit_json(value: Any, as_json: bool, show: Callable[[], None]) -> None:
    """Print ``value`` as JSON when ``--json`` was given, else ``show()`` it for people."""
    if not as_json:
        show()
        return
    from cairn.ui.output import json_text

    typer.echo(json_text(value))


def notes(fmt: Format) -> Console:
    """Where a command prints remarks beside its result: stdout with a table, stderr when
    stdout carries JSON or CSV (so it stays parseable)."""
    from cairn.ui.terminal import console as consoles

    return consoles.console if fmt is Format.table else consoles.err_console


def _wrote(out: Path, what: str) -> None:
    from cairn.ui.terminal.console import err_console

    err_console.print(f"Wrote {what} to {out}.", highlight=False, soft_wrap=True)
