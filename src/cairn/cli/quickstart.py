"""`cairn init` and `cairn quickstart`: the example project and the main job."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cairn.cli._console import console, one_line_errors
from cairn.quickstart import DEFAULT_DIR


@one_line_errors
def init(
    directory: Annotated[Path, typer.Argument(help="Folder to create the project in.")],
    force: Annotated[bool, typer.Option(help="Write into a non-empty folder.")] = False,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic data.")] = 7,
) -> None:
    """Scaffold a working credit-scoring project (real credit data + synthetic transactions).

    Example: cairn init ./credit && cairn apply --repo ./credit
    """
    from cairn.quickstart.example import create_example_project

    project = create_example_project(directory, seed=seed, force=force)
    console.print(
        f"Created {project.path}: {project.applications} applications, "
        f"{project.profile_rows} profile rows, {project.transactions} transactions.\n"
        f"Next: cairn apply --repo {directory}"
    )


@one_line_errors
def quickstart(
    directory: Annotated[
        Path, typer.Argument(help="Folder for the example project.")
    ] = DEFAULT_DIR,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic data.")] = 7,
) -> None:
    """Run the whole lifecycle on the embedded defaults: init -> apply -> training set.

    Example: cairn quickstart ./demo
    """
    from cairn.quickstart.printers import print_report
    from cairn.quickstart.run import run_quickstart

    with console.status("starting") as status:
        report = run_quickstart(
            directory, seed=seed, on_step=lambda name: status.update(f"[bold]{name}")
        )
    print_report(report)
