"""`cairn runs list|compare`: training runs side by side."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cairn.cli._console import RepoOption, console, one_line_errors
from cairn.cli._output import FormatOption, JsonOption, OutOption, emit, output_format
from cairn.cli._project import open_project
from cairn.core.errors import ConfigError

if TYPE_CHECKING:
    from cairn.tracking import RunRecord

app = typer.Typer(help="Training runs in the project's MLflow experiment.", no_args_is_help=True)


@app.command("list")
@one_line_errors
def list_runs(
    limit: Annotated[int, typer.Option(help="How many of the newest runs.", min=1)] = 20,
    repo: RepoOption = Path("."),
    as_json: JsonOption = False,
    fmt: FormatOption = None,
    out: OutOption = None,
) -> None:
    """List the newest training runs with their model, author and reported AUC (test, or
    validation for runs without a test part).

    Example: cairn runs list --limit 5 --format csv --out runs.csv
    """
    chosen = output_format(fmt, as_json, out)
    runs = open_project(repo).tracker.search_runs(limit)

    def show() -> None:
        from rich.table import Table

        table = Table("run", "started", "model", "type", "author", "auc (part)", "data digest")
        for r in runs:
            part = metrics_split(r)
            auc = r.metrics.get("test_auc" if part == "test" else "valid_auc")
            table.add_row(
                r.run_id,
                "-" if r.start_time is None else f"{r.start_time:%Y-%m-%d %H:%M}",
                r.tags.get("cairn.model_name", "-"),
                r.params.get("model_type", "-"),
                r.tags.get("cairn.author", "-"),
                "-" if auc is None else f"{auc:.4f} ({part})",
                r.tags.get("cairn.manifest_digest", "-")[:12],
            )
        console.print(table)

    emit(chosen, [run_row(r) for r in runs], show, out=out)


def run_row(r: RunRecord) -> dict[str, object]:
    """One run as a row: what the table shows, then every metric and param (``metric.``,
    ``param.`` columns)."""
    from cairn.ui.output import jsonable

    row: dict[str, object] = {
        "run_id": r.run_id,
        "name": r.name,
        "status": r.status,
        "started": r.start_time,
        "model": r.tags.get("cairn.model_name"),
        "author": r.tags.get("cairn.author"),
        "data_digest": r.tags.get("cairn.manifest_digest"),
    }
    row.update({f"metric.{k}": v for k, v in sorted(r.metrics.items())})
    row.update({f"param.{k}": v for k, v in sorted(r.params.items())})
    plain: dict[str, object] = jsonable(row)
    return plain


@app.command()
@one_line_errors
def compare(
    runs: Annotated[list[str], typer.Argument(help="Two or more run ids.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Exit 1 when the runs report metrics of different splits (another reported "
            "part, or other cut-off times).",
        ),
    ] = False,
    repo: RepoOption = Path("."),
) -> None:
    """Show the params and metrics of runs side by side; differing params are highlighted.

    Each metric names its part (train_, valid_, test_); the row "reported" names the part each
    run reports (tag cairn.metrics_split; runs before test parts: validation). When the runs
    report different parts or split at different times, a warning says their metrics are not
    comparable, and --strict exits 1.

    Example: cairn runs compare 3f2c...e1 9a0b...77 --strict
    """
    if len(runs) < 2:
        raise ConfigError(f"runs compare needs at least two run ids; got {len(runs)}.")
    from rich.table import Table

    tracker = open_project(repo).tracker
    records = [tracker.get_run(r) for r in runs]
    compared = comparison(records)
    problems = split_differences(records)
    if as_json:
        typer.echo(json.dumps({**compared, "split_differences": problems}, indent=2, default=str))
        if strict and problems:
            raise typer.Exit(1)
        return
    table = Table("", *[r.run_id[:12] for r in records], title="Runs side by side")
    table.add_row("[bold]model", *[r.tags.get("cairn.model_name", "-") for r in records])
    table.add_row(
        "[bold]data digest", *[r.tags.get("cairn.manifest_digest", "-")[:16] for r in records]
    )
    table.add_row("[bold]reported", *[metrics_split(r) for r in records])
    for key, values in compared["metrics"].items():
        best = _best(key, values)
        table.add_row(key, *[_metric(v, v == best) for v in values])
    for key, values in compared["params"].items():
        differs = len({str(v) for v in values}) > 1
        cells = [str("-" if v is None else v)[:40] for v in values]
        table.add_row(
            f"[yellow]{key}[/]" if differs else key,
            *[f"[yellow]{c}[/]" if differs else c for c in cells],
        )
    console.print(table)
    from rich.markup import escape

    for problem in problems:
        console.print(f"[yellow]Not comparable:[/] {escape(problem)}", soft_wrap=True)
    if strict and problems:
        raise typer.Exit(1)


def metrics_split(record: RunRecord) -> str:
    """The part a run reports metrics on (tag ``cairn.metrics_split``; runs logged before
    Cairn had test parts report their validation rows)."""
    return record.tags.get("cairn.metrics_split", "validation")


def split_differences(records: list[RunRecord]) -> list[str]:
    """Why the runs' reported metrics are not comparable: another reported part, or other
    cut-off times (empty when they are comparable)."""
    out: list[str] = []
    ids = [r.run_id[:12] for r in records]
    parts = [metrics_split(r) for r in records]
    if len(set(parts)) > 1:
        listing = ", ".join(f"{i} {p}" for i, p in zip(ids, parts, strict=True))
        out.append(
            f"the runs report metrics of different parts ({listing}); compare test_* only "
            f"between runs that have them"
        )
    for key in ("split_cutoff", "test_cutoff"):
        values = [r.params.get(key) for r in records]
        if len({str(v) for v in values}) > 1:
            listing = ", ".join(f"{i} {v or '-'}" for i, v in zip(ids, values, strict=True))
            out.append(f"the runs split at different times ({key}: {listing})")
    return out


def comparison(records: list[RunRecord]) -> dict[str, dict[str, list[object]]]:
    """``{"metrics": {name: [value per run]}, "params": {...}}`` (None where a run lacks it)."""
    metric_names = sorted({k for r in records for k in r.metrics})
    param_names = sorted({k for r in records for k in r.params})
    return {
        "runs": {"run_id": [r.run_id for r in records]},
        "metrics": {k: [r.metrics.get(k) for r in records] for k in metric_names},
        "params": {k: [r.params.get(k) for r in records] for k in param_names},
    }


_LOWER_IS_BETTER = ("brier",)


def _best(key: str, values: list[object]) -> object:
    numbers = [v for v in values if isinstance(v, float)]
    held_out = key.startswith(("valid_", "test_"))
    if len(numbers) < 2 or not held_out or key.endswith(("_rows", "_rate")):
        return None
    return min(numbers) if key.endswith(_LOWER_IS_BETTER) else max(numbers)


def _metric(value: object, best: bool) -> str:
    if value is None:
        return "-"
    text = f"{value:,.0f}" if isinstance(value, float) and value.is_integer() else f"{value:.4f}"
    return f"[bold green]{text}[/]" if best else text
