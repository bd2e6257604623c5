"""`cairn models list|show|approve|promote|alias|policy|history`: the governed registry."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cairn.cli._console import RepoOption, console, err_console, one_line_errors, parse_time
from cairn.cli._output import FormatOption, JsonOption, OutOption, emit, emit_json, output_format
from cairn.cli._project import current_user, open_project

if TYPE_CHECKING:
    pass

app = typer.Typer(
    help="Registered models: versions, reviews, aliases (champion, challenger, fallback).",
    no_args_is_help=True,
)

ReasonOption = Annotated[
    str, typer.Option("--reason", help="Why (recorded in the alias history and the audit log).")
]


class Decision(StrEnum):
    """A review decision."""

    approve = "approve"
    reject = "reject"


@app.command("list")
@one_line_errors
def list_models(
    repo: RepoOption = Path("."),
    as_json: JsonOption = False,
    fmt: FormatOption = None,
    out: OutOption = None,
) -> None:
    """List registered models with their versions and aliases.

    Example: cairn models list --repo ./credit --json
    """
    from cairn.ui.output import jsonable

    chosen = output_format(fmt, as_json, out)
    models = open_project(repo).registry.list_models()

    def show() -> None:
        from rich.table import Table

        if not models:
            console.print(
                "No registered models yet: train one with `cairn train --config train.yaml`."
            )
            return
        table = Table("model", "versions", "latest", "aliases")
        for m in models:
            aliases = ", ".join(f"{a} -> v{v}" for a, v in m.aliases.items()) or "-"
            table.add_row(m.name, str(m.versions), m.latest or "-", aliases)
        console.print(table)

    emit(chosen, [jsonable(m) for m in models], show, out=out)


@app.command()
@one_line_errors
def show(
    name: Annotated[str, typer.Argument(help="Registered model name.")],
    repo: RepoOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Show a model's versions (author, run, review decision, aliases) and alias history.

    Example: cairn models show credit-default
    """
    from rich.table import Table

    from cairn.ui.terminal.models import move_row

    project = open_project(repo)
    details = project.registry.show(name)
    policy = project.registry.policy(name)
    if as_json:
        body = {"model": details.model, "policy": policy, "versions": details.versions}
        body |= {"history": details.history, "warnings": details.warnings}
        emit_json(body, True, lambda: None)
        return
    table = Table(
        "version", "author", "created", "run", "aliases", "review",
        title=f"{name} (four eyes: {'required' if policy.require_four_eyes else 'WAIVED'})",
    )  # fmt: skip
    for item in details.versions:
        v, a = item.version, item.approval
        review = "-" if a is None else f"{a.decision} by {a.reviewer} ({a.ticket})"
        style = "" if a is None else ("green" if a.decision == "approve" else "red")
        table.add_row(
            v.version,
            v.author or "?",
            "-" if v.created_at is None else f"{v.created_at:%Y-%m-%d %H:%M}",
            (v.run_id or "-")[:12],
            ", ".join(v.aliases) or "-",
            f"[{style}]{review}[/]" if style else review,
        )
    console.print(table)
    if details.history:
        moves = Table("when", "alias", "from", "to", "who", "why", title="Alias history")
        for m in details.history:
            moves.add_row(*move_row(m))
        console.print(moves)
    for warning in details.warnings:
        err_console.print(f"[yellow]warning:[/] {warning}")


@app.command()
@one_line_errors
def approve(
    name: Annotated[str, typer.Argument(help="Registered model name.")],
    version: Annotated[str, typer.Argument(help="Version to review.")],
    ticket: Annotated[str, typer.Option(help="Review reference, e.g. MRR-2026-0123.")],
    decision: Annotated[Decision, typer.Option(help="approve or reject.")],
    reviewer: Annotated[
        str | None, typer.Option(help="Who reviews (default: CAIRN_USER or the OS user).")
    ] = None,
    note: Annotated[str, typer.Option(help="The review's conclusion.")] = "",
    repo: RepoOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Record a review decision on a version; its author can never review it (four eyes).

    Example: cairn models approve credit-default 3 --reviewer risk-officer
    --ticket MRR-2026-0123 --decision approve --note "validated on 2026Q1"
    """
    project = open_project(repo)
    who = reviewer or current_user()
    done = project.registry.approve(
        name, version, reviewer=who, ticket=ticket, decision=decision.value, note=note
    )
    verb = "approved" if done.decision == "approve" else "rejected"
    emit_json(
        done,
        as_json,
        lambda: console.print(
            f"Recorded: {done.reviewer} {verb} "
            f"{done.model} v{done.version} (author {done.author}) under {done.ticket}."
        ),
    )


@app.command()
@one_line_errors
def promote(
    name: Annotated[str, typer.Argument(help="Registered model name.")],
    version: Annotated[str, typer.Argument(help="Version to promote.")],
    reason: ReasonOption,
    alias: Annotated[
        str, typer.Option(help="champion, fallback, challenger or challenger-<name>.")
    ] = "champion",
    repo: RepoOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Make a version champion (needs a second person's approval; the old champion becomes
    fallback), or point another alias at it.

    Example: cairn models promote credit-default 3 --reason "MRR-2026-0123 approved"
    """
    from cairn.ui.terminal.models import print_promotion

    project = open_project(repo)
    done = project.registry.promote(name, version, alias=alias, actor=current_user(), reason=reason)
    emit_json(done, as_json, lambda: print_promotion(done))


@app.command("alias")
@one_line_errors
def set_alias(
    name: Annotated[str, typer.Argument(help="Registered model name.")],
    alias: Annotated[str, typer.Argument(help="champion, fallback, challenger[-name].")],
    version: Annotated[str | None, typer.Argument(help="Version (omit with --remove).")] = None,
    reason: ReasonOption = "",
    remove: Annotated[bool, typer.Option("--remove", help="Remove the alias.")] = False,
    repo: RepoOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Point an alias at a version (champion follows the promotion rules), or remove one.

    Example: cairn models alias credit-default challenger-hgb 4 --reason "shadow test"
    """
    from cairn.ui.terminal.models import print_promotion

    project = open_project(repo)
    registry = project.registry
    if remove:
        if version is not None:
            raise typer.BadParameter("give no VERSION with --remove")
        move = registry.remove_alias(name, alias, actor=current_user(), reason=reason)
        emit_json(
            move,
            as_json,
            lambda: console.print(f"Removed {name}@{alias} (was v{move.previous})."),
        )
        return
    if version is None:
        raise typer.BadParameter("VERSION is required (or use --remove)")
    done = registry.promote(name, version, alias=alias, actor=current_user(), reason=reason)
    emit_json(done, as_json, lambda: print_promotion(done))


@app.command()
@one_line_errors
def policy(
    name: Annotated[str, typer.Argument(help="Registered model name.")],
    four_eyes: Annotated[
        bool | None,
        typer.Option(
            "--four-eyes/--no-four-eyes",
            help="Require (default) or waive a second person's approval for champion.",
        ),
    ] = None,
    reason: Annotated[
        str, typer.Option("--reason", help="Why the policy changes (required to change it).")
    ] = "",
    repo: RepoOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Show or change a model's promotion policy (a change is an audited action).

    Example: cairn models policy credit-default --no-four-eyes --reason "MRC-2026-0007 sandbox"
    """
    project = open_project(repo)
    if four_eyes is None:
        current = project.registry.policy(name)
    else:
        current = project.registry.set_policy(
            name, require_four_eyes=four_eyes, actor=current_user(), reason=reason
        )
    if as_json:
        emit_json({"model": name, **current.to_dict()}, True, lambda: None)
        return
    state = "required" if current.require_four_eyes else "[yellow]WAIVED[/]"
    since = ""
    if current.changed_by is not None and current.changed_at is not None:
        when = f"{current.changed_at:%Y-%m-%d %H:%M}"
        since = f" (set by {current.changed_by} at {when}: {current.reason})"
    console.print(f"{name}: four-eyes approval for champion {state}{since}.")


@app.command()
@one_line_errors
def history(
    name: Annotated[str, typer.Argument(help="Registered model name.")],
    alias: Annotated[str | None, typer.Option(help="Only this alias.")] = None,
    at: Annotated[
        str | None,
        typer.Option(help="Which version each alias pointed at, at this time (ISO 8601)."),
    ] = None,
    repo: RepoOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Every alias move (who, when, why), or the alias targets at a past time.

    Example: cairn models history credit-default --alias champion --at 2026-03-01T00:00:00Z
    """
    from rich.table import Table

    from cairn.ui.terminal.models import move_row, version_text

    registry = open_project(repo).registry
    registry.mlflow.get_model(name)
    if at is not None:
        when = parse_time(at, "--at")
        names = [alias] if alias else sorted({m.alias for m in registry.aliases.history(name)})
        if as_json:
            targets = {a: registry.aliases.at(name, a, when) for a in names}
            emit_json({"model": name, "at": when, "aliases": targets}, True, lambda: None)
            return
        table = Table("alias", "version", title=f"{name} at {when.isoformat()}")
        for a in names:
            table.add_row(a, version_text(registry.aliases.at(name, a, when)))
        console.print(table)
        return
    moves = registry.aliases.history(name, alias)
    if as_json:
        emit_json(moves, True, lambda: None)
        return
    table = Table("when", "alias", "from", "to", "who", "why", title=f"{name}: alias moves")
    for m in moves:
        table.add_row(*move_row(m))
    console.print(table)
