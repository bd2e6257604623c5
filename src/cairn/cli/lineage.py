"""`cairn lineage MODEL@ALIAS`: the chain from a model version back to data, code and approval.

Also prints the training half of the quickstart (:func:`print_training_demo`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.tree import Tree

from cairn.app.predictions import find_prediction
from cairn.app.training_demo import TrainingDemo
from cairn.cli._console import RepoOption, console, err_console, one_line_errors
from cairn.cli._project import ProjectContext
from cairn.registry.errors import RegistryInputError
from cairn.registry.lineage import Lineage, build_lineage
from cairn.registry.models import ModelRef


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
    prediction = None
    if "@" not in ref and "/" not in ref:  # a prediction id: start from the logged decision
        prediction = find_prediction(repo, ref)
        if prediction is None:
            raise RegistryInputError(
                "lineage needs a model reference (MODEL@ALIAS, e.g. credit-default@champion, "
                f"or MODEL/VERSION) or a logged prediction id; got {ref!r}, which is neither."
            )
        ref = f"{prediction['model_name']}/{prediction['model_version']}"
    found = build_lineage(ProjectContext(repo).registry, ModelRef.parse(ref))
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


def print_lineage(found: Lineage) -> None:
    """The lineage as a Rich tree, then what is missing and any warnings."""
    m = found.model
    tree = Tree(
        f"[bold]{found.ref}[/] -> {m['name']} v{m['version']} "
        f"(author {m.get('author') or '?'}, {m.get('tags', {}).get('cairn.flavor', '?')})"
    )
    run = found.run
    if run is not None:
        metrics = run.get("metrics", {})
        node = tree.add(f"run {run['run_id']} [{run['status']}] started {run['start_time']}")
        node.add(
            "validation: "
            + ", ".join(
                f"{k} {metrics[f'valid_{k}']:.4f}"
                for k in ("auc", "ks", "gini", "precision", "recall", "brier")
                if f"valid_{k}" in metrics
            )
        )
    ts = found.training_set
    if ts is not None:
        _manifest_node(tree, ts, found.label)
    if found.quality is not None:
        q = found.quality
        counts = q.get("counts", {})
        tree.add(
            f"quality: {'passed' if q.get('passed') else 'FAILED'} "
            f"({counts.get('pass', 0)} pass, {counts.get('warn', 0)} warn, "
            f"{counts.get('fail', 0)} fail)"
        )
    code = found.code
    if code is not None:
        dirty = " [yellow](dirty)[/]" if code.get("dirty") else ""
        tree.add(f"code: commit {code.get('sha')}{dirty}")
    if found.packages:
        tree.add("packages: " + ", ".join(f"{k} {v}" for k, v in found.packages.items()))
    four_eyes = "required" if found.policy.get("require_four_eyes", True) else "WAIVED"
    reviews = tree.add(f"approvals (four eyes {four_eyes})")
    for a in found.approvals:
        reviews.add(f"{a['decision']} by {a['reviewer']} ({a['ticket']}) at {a['at']}: {a['note']}")
    if found.alias_history:
        moves = tree.add("alias moves")
        for mv in found.alias_history:
            moves.add(
                f"{mv['at']} {mv['alias']}: {mv['previous'] or '-'} -> {mv['version'] or '-'} "
                f"by {mv['actor']} ({mv['reason']})"
            )
    if found.audit:
        tree.add(
            "audit: " + ", ".join(f"#{e['seq']} {e['action']} by {e['actor']}" for e in found.audit)
        )
    console.print(tree)
    for item in found.missing:
        err_console.print(f"[red]missing:[/] {item}")
    for item in found.warnings:
        err_console.print(f"[yellow]warning:[/] {item}")
    if found.complete:
        console.print("[green]Lineage complete.[/]")


def _manifest_node(tree: Tree, ts: dict[str, Any], label: str | None) -> None:
    entity = ts.get("entity", {})
    node = tree.add(
        f"training set: {ts.get('row_count', 0):,} rows, digest {ts.get('digest')} "
        f"(full-content SHA-256)"
    )
    node.add(
        f"entity rows {entity.get('start')} .. {entity.get('end')}, label {label!r}, "
        f"sha256 {str(entity.get('sha256'))[:16]}…"
    )
    views = node.add(f"{len(ts.get('feature_refs', []))} features from")
    for name, view in ts.get("feature_views", {}).items():
        views.add(
            f"{name} v{view.get('version')} definition {str(view.get('definition_hash'))[:16]}… "
            f"({len(view.get('features', []))} features)"
        )
    sources = node.add("sources")
    for name, src in ts.get("sources", {}).items():
        version = (
            f"delta v{src['delta_version']}"
            if src.get("delta_version") is not None
            else f"sha256 {str(src.get('sha256'))[:16]}…"
        )
        sources.add(f"{name}: {version} ({src.get('files')} file(s))")


def print_training_demo(demo: TrainingDemo) -> None:
    """The training half of the quickstart: both models, the review, the promotion, lineage."""
    steps = Table("step", "seconds", title="Training and governance", title_justify="left")
    for name, seconds in demo.steps:
        steps.add_row(name, f"{seconds:.2f}")
    console.print(steps)
    table = Table(
        "model", "version", "valid AUC", "KS", "Gini", "Brier", "top feature", "alias",
        title=f"{demo.champion.model_name}: champion vs challenger ({demo.config_path.name})",
        title_justify="left",
    )  # fmt: skip
    for result, alias in ((demo.champion, "champion"), (demo.challenger, "challenger")):
        m = result.metrics
        top = result.importance.top(1)
        table.add_row(
            result.flavor,
            str(result.version),
            f"{m['valid_auc']:.4f}",
            f"{m['valid_ks']:.4f}",
            f"{m['valid_gini']:.4f}",
            f"{m['valid_brier']:.4f}",
            top[0][0] if top else "-",
            alias,
        )
    console.print(table)
    a = demo.approval
    console.print(
        f"Review: {a.reviewer} approved v{a.version} (author {a.author}) under {a.ticket}; "
        f"{demo.author} promoted it to champion."
    )
    print_lineage(demo.lineage)
