"""`cairn lineage MODEL@ALIAS`: the chain from a model version back to data, code and approval.

Also prints the training half of the quickstart (:func:`print_training_demo`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from cairn.cli._console import RepoOption, console, one_line_errors
from cairn.cli._project import open_project


@one_line_errors
def lineage(
    ref: Annotated[
        str,
        typer.Argument(
            help="MODEL@ALIAS (e.g. credit-default@champion), MODEL/VERSION, or a prediction id."
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a tree.")] = False,
    repo: RepoOption = Path("."),
) -> None:
    """Print a model version's lineage (or a served decision's, from its prediction id): run,
    training-set manifest, quality, code, approvals.

    Example: cairn lineage credit-default@champion --repo ./credit
    """
    from cairn.registry.errors import RegistryInputError
    from cairn.registry.lineage import build_lineage
    from cairn.registry.models import ModelRef
    from cairn.ui.terminal.lineage import print_lineage

    project = open_project(repo)
    prediction = None
    if "@" not in ref and "/" not in ref:  # a prediction id: start from the logged decision
        prediction = project.predictions.find(ref)
        if prediction is None:
            raise RegistryInputError(
                "lineage needs a model reference (MODEL@ALIAS, e.g. credit-default@champion, "
                f"or MODEL/VERSION) or a logged prediction id; got {ref!r}, which is neither."
            )
        ref = f"{prediction['model_name']}/{prediction['model_version']}"
    found = build_lineage(project.registry, ModelRef.parse(ref))
    if as_json:
        if prediction is None:
            typer.echo(found.to_json())
        else:
            body = {"prediction": prediction, "lineage": found.to_dict()}
            typer.echo(json.dumps(body, indent=2, default=str))
        return
    if prediction is not None:
        console.print(
            f"[bold]prediction {prediction['prediction_id']}[/] at {prediction['time']}: "
            f"{prediction['decision']} (score {prediction['score']:.4f}) by deployment "
            f"{prediction['deployment']!r}, arm {prediction['arm']}, for {prediction['entity']}",
            highlight=False,
        )
    print_lineage(found)
