"""`cairn init` and `cairn quickstart`: a blank or example project, and the main job."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from cairn.cli._console import console, one_line_errors
from cairn.quickstart import DEFAULT_DIR


class Template(StrEnum):
    """What ``cairn init`` writes."""

    BLANK = "blank"
    CREDIT = "credit"


@one_line_errors
def init(
    directory: Annotated[Path, typer.Argument(help="Folder to create the project in.")],
    template: Annotated[
        Template,
        typer.Option(
            "--template",
            "-t",
            help="blank: your own project, every file commented and valid as written, for a "
            "CSV file you add; credit: the example credit project with its data.",
        ),
    ] = Template.BLANK,
    force: Annotated[bool, typer.Option(help="Write into a non-empty folder.")] = False,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic data (credit).")] = 7,
) -> None:
    """Scaffold a project: blank (cairn.yaml, features.py, train.yaml, deployments.yaml,
    reason_codes.yaml, experiments.yaml and a quality suite, each commented), or the working
    credit-scoring example (real credit data + synthetic transactions).

    Example: cairn init ./churn && cairn config check --repo ./churn
    (or: cairn init ./credit --template credit && cairn apply --repo ./credit)
    """
    if template is Template.CREDIT:
        from cairn.quickstart.example import create_example_project

        project = create_example_project(directory, seed=seed, force=force)
        console.print(
            f"Created {project.path}: {project.applications} applications, "
            f"{project.profile_rows} profile rows, {project.transactions} transactions.\n"
            f"Next: cairn apply --repo {directory}"
        )
        _first_admin_token(directory)
        return
    from cairn.quickstart.blank import DATA_COLUMNS, DATA_FILE, create_blank_project

    blank = create_blank_project(directory, force=force)
    files = ", ".join(p.relative_to(blank.path).as_posix() for p in blank.files)
    console.print(
        f"Created the blank project {blank.name!r} in {blank.path}: {files}.\n"
        f"Next: add {DATA_FILE} ({','.join(DATA_COLUMNS)}) or edit features.py for your data, "
        f"then cairn config check --repo {directory} && cairn apply --repo {directory}",
        highlight=False,
        soft_wrap=True,
    )
    _first_admin_token(directory)


def _first_admin_token(directory: Path) -> None:
    """Create the project's first admin token in ``.cairn/admin.token`` and say how to use it."""
    from cairn.app.identity import current_user
    from cairn.app.project import Project
    from cairn.auth.bootstrap import write_first_admin_token

    with Project.open(directory) as project:
        made = write_first_admin_token(project.tokens, project.root, holder=current_user())
    if made is None:
        console.print(
            "The project already has API tokens: its admins create more with "
            "`cairn auth token create`.",
            highlight=False,
            soft_wrap=True,
        )
        return
    where = directory / ".cairn" / "admin.token"
    console.print(
        f"Admin token of {made.info.holder} ({made.info.id}) written to {where} (readable only "
        f"by you). Governance commands act with a token: export CAIRN_TOKEN=$(cat {where}) or "
        f"pass --token-file {where}; create one per person with `cairn auth token create "
        "--holder NAME --role deployer|approver|viewer`.",
        highlight=False,
        soft_wrap=True,
    )


@one_line_errors
def quickstart(
    directory: Annotated[
        Path, typer.Argument(help="Folder for the example project.")
    ] = DEFAULT_DIR,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic data.")] = 7,
) -> None:
    """Run the whole lifecycle on the example credit project, on the embedded defaults.

    Steps: init, data quality, apply, point-in-time training set, materialize, online read,
    consistency, train, govern (four eyes), lineage, serve, monitor, rollouts, experiment
    analysis, streaming features, retraining, model families, dashboard. A second run reuses
    the folder from scratch; CAIRN_DATABASE_URL puts the metadata and MLflow on PostgreSQL.

    Example: cairn quickstart ./demo
    """
    from cairn.quickstart.printers import print_report
    from cairn.quickstart.run import run_quickstart

    with console.status("starting") as status:
        report = run_quickstart(
            directory, seed=seed, on_step=lambda name: status.update(f"[bold]{name}")
        )
    print_report(report)
