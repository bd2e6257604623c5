"""`cairn config schema|check`: the JSON Schema of each project file, and a project's files
checked against theirs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cairn.cli._console import CheckFailed, RepoOption, fail, one_line_errors

KINDS = (
    "cairn", "train", "deployments", "reason_codes", "experiments", "retraining", "quality",
)  # fmt: skip
"""The file kinds, for help texts (:data:`cairn.app.project_files.FILE_KINDS` is the source;
a test keeps the two equal)."""

app = typer.Typer(
    help="Project files: print a file kind's JSON Schema, check a project's files.",
    no_args_is_help=True,
)


@app.command("schema")
@one_line_errors
def schema_command(
    kind: Annotated[
        str,
        typer.Argument(
            help=f"The file kind: {', '.join(KINDS)} (quality: the suites in quality/*.yaml).",
            show_default=False,
        ),
    ],
) -> None:
    """Print the JSON Schema (draft 2020-12) of one kind of project file: every key, its type,
    bounds, default and meaning, generated from the model that parses the file.

    Example: cairn config schema deployments > deployments.schema.json
    """
    import json

    from cairn.app.project_files import FILE_KINDS

    found = FILE_KINDS.get(kind)
    if found is None:
        raise fail(f"Unknown file kind {kind!r}; the kinds are {', '.join(FILE_KINDS)}.")
    typer.echo(json.dumps(found.schema(), indent=2, ensure_ascii=False))


@app.command("check")
@one_line_errors
def check_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    repo: RepoOption = Path("."),
) -> None:
    """Check every project file present (cairn.yaml, features.py, train.yaml, deployments.yaml,
    reason_codes.yaml, experiments.yaml, retraining.yaml, quality/*.yaml): one line per
    problem naming the file and the key. Exits 1 when there is a problem, 0 when every file is
    valid.

    Example: cairn config check --repo ./my-project
    """
    import json

    from cairn.app.project_files import check_project

    result = check_project(repo)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
    else:
        for problem in result.problems:
            typer.echo(str(problem))
        count = len(result.problems)
        if count:
            noun = "problem" if count == 1 else "problems"
            typer.echo(f"{count} {noun} in {len(result.files)} files checked.", err=True)
        else:
            typer.echo(f"OK: {len(result.files)} files valid: {', '.join(result.files)}.")
    if not result.ok:
        raise CheckFailed()  # the problems are printed above
