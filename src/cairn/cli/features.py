"""`cairn apply`, `cairn features`, `cairn training-set`: definitions and training sets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cairn.cli._console import RepoOption, console, one_line_errors
from cairn.cli._output import FormatOption, JsonOption, OutOption, emit, emit_json, output_format
from cairn.cli._progress import spinner
from cairn.cli._project import open_project

app = typer.Typer(help="Feature definitions.", no_args_is_help=True)


@one_line_errors
def apply(repo: RepoOption = Path("."), as_json: JsonOption = False) -> None:
    """Validate and record the definitions in the project's features.py.

    Example: cairn apply --repo ./credit
    """
    project = open_project(repo)
    store = project.features
    with spinner("Applying definitions"):
        result = store.apply(project.definitions())

    def show() -> None:
        from rich.table import Table

        table = Table(
            "kind", "name", "version", "status", title=f"Applied to project {store.project!r}"
        )
        for c in result.changes:
            style = {"created": "green", "updated": "yellow"}.get(c.status, "dim")
            table.add_row(c.kind, c.name, str(c.version), f"[{style}]{c.status}[/]")
        console.print(table)

    emit_json({"project": store.project, "changes": result.changes}, as_json, show)


@app.command("list")
@one_line_errors
def list_views(
    repo: RepoOption = Path("."),
    as_json: JsonOption = False,
    fmt: FormatOption = None,
    out: OutOption = None,
) -> None:
    """List applied feature views and their features.

    Example: cairn features list --repo ./credit --json
    """
    chosen = output_format(fmt, as_json, out)
    store = open_project(repo).features
    views = store.list_feature_views()
    rows = [
        {
            "view": v.name,
            "entities": list(v.join_keys),
            "source": v.source.name,
            "features": list(v.feature_names),
            "ttl": None if v.ttl is None else str(v.ttl),
            "windows": sorted({f"{a.window}/{a.hop}" for a in v.aggregations}),
        }
        for v in views
    ]

    def show() -> None:
        from rich.table import Table

        table = Table("view", "entities", "source", "features", "ttl / windows")
        for v in views:
            windows = sorted({f"{a.window}/{a.hop}" for a in v.aggregations})
            extra = str(v.ttl or "") or ", ".join(windows) or "-"
            table.add_row(
                v.name, ", ".join(v.join_keys), v.source.name, "\n".join(v.feature_names), extra
            )
        console.print(table)

    emit(chosen, rows, show, out=out)


@one_line_errors
def training_set(
    entities: Annotated[
        str,
        typer.Argument(help="Entity rows: a Parquet/CSV file, or SQL over the applied sources."),
    ],
    features: Annotated[
        list[str],
        typer.Option("--feature", "-f", help="A 'view:feature' reference; repeat for more."),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Parquet file to write.")],
    full_feature_names: Annotated[bool, typer.Option(help="Name columns view__feature.")] = False,
    quality: Annotated[
        Path | None,
        typer.Option(help="A quality suite the training set must pass (halts on critical/high)."),
    ] = None,
    repo: RepoOption = Path("."),
    as_json: Annotated[
        bool, typer.Option("--json", help="Print what was written (and the manifest) as JSON.")
    ] = False,
) -> None:
    """Build a point-in-time-correct training set and write it to Parquet with its manifest.

    Example: cairn training-set "SELECT customer_id, event_timestamp FROM applications"
    -f customer_profile:income -f txn_stats:amount_sum_24h -o train.parquet
    """
    store = open_project(repo).features
    with spinner("Building the training set"):
        job = store.get_historical_features(
            entities, features, full_feature_names=full_feature_names, quality=quality
        )
        path = job.to_parquet(out)
        manifest = job.manifest
    manifest_path = path.with_suffix(".manifest.json")
    manifest_path.write_text(manifest.to_json())
    written = {"path": path, "manifest_path": manifest_path, "manifest": manifest}
    emit_json(
        written,
        as_json,
        lambda: console.print(
            f"Wrote {manifest.row_count} rows to {path} (manifest {manifest_path}, "
            f"digest {manifest.digest[:12]})."
        ),
    )
