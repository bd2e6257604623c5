"""`cairn apply`, `cairn features`, `cairn training-set`: definitions and training sets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cairn.cli._console import RepoOption, console, one_line_errors
from cairn.cli._progress import spinner
from cairn.cli._project import open_project

app = typer.Typer(help="Feature definitions.", no_args_is_help=True)


@one_line_errors
def apply(repo: RepoOption = Path(".")) -> None:
    """Validate and record the definitions in the project's features.py.

    Example: cairn apply --repo ./credit
    """
    from rich.table import Table

    project = open_project(repo)
    store = project.features
    with spinner("Applying definitions"):
        result = store.apply(project.definitions())
    table = Table(
        "kind", "name", "version", "status", title=f"Applied to project {store.project!r}"
    )
    for c in result.changes:
        style = {"created": "green", "updated": "yellow"}.get(c.status, "dim")
        table.add_row(c.kind, c.name, str(c.version), f"[{style}]{c.status}[/]")
    console.print(table)


@app.command("list")
@one_line_errors
def list_views(repo: RepoOption = Path(".")) -> None:
    """List applied feature views and their features.

    Example: cairn features list --repo ./credit
    """
    from rich.table import Table

    store = open_project(repo).features
    table = Table("view", "entities", "source", "features", "ttl / windows")
    for v in store.list_feature_views():
        windows = sorted({f"{a.window}/{a.hop}" for a in v.aggregations})
        extra = str(v.ttl or "") or ", ".join(windows) or "-"
        table.add_row(
            v.name, ", ".join(v.join_keys), v.source.name, "\n".join(v.feature_names), extra
        )
    console.print(table)


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
    console.print(
        f"Wrote {manifest.row_count} rows to {path} (manifest {manifest_path}, "
        f"digest {manifest.digest[:12]})."
    )
