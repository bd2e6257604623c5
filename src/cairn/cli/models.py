"""`cairn models list|show|approve|promote|alias|policy|history|explain|verify`: the governed
registry.

Governance commands (approve, promote, alias, policy changes) act with a token
(``--token-file`` or ``CAIRN_TOKEN``): the principal it proves is who acted, with its role
(approve: approver; promote, alias: deployer; policy: admin). ``--server URL`` sends the action
to a running ``cairn serve`` instead of the local project.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cairn.cli._auth import ServerOption, TokenFileOption, acting_principal, remote, require_token
from cairn.cli._console import RepoOption, console, err_console, one_line_errors, parse_time
from cairn.cli._output import FormatOption, JsonOption, OutOption, emit, emit_json, output_format
from cairn.cli._project import open_project

if TYPE_CHECKING:
    from cairn.explain.global_explanation import GlobalExplanation

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
    """Show a model's versions (family, author, run, review decision, aliases) and alias
    history.

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
        "version", "family", "author", "created", "run", "aliases", "review",
        title=f"{name} (four eyes: {'required' if policy.require_four_eyes else 'WAIVED'})",
    )  # fmt: skip
    for item in details.versions:
        v, a = item.version, item.approval
        review = "-" if a is None else f"{a.decision} by {a.reviewer} ({a.ticket})"
        style = "" if a is None else ("green" if a.decision == "approve" else "red")
        table.add_row(
            v.version,
            v.tags.get("cairn.flavor", "lightgbm"),
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
        str | None,
        typer.Option(
            help="Display name of the reviewer; must be the token's principal (refused "
            "otherwise). The token decides who reviews."
        ),
    ] = None,
    note: Annotated[str, typer.Option(help="The review's conclusion.")] = "",
    token_file: TokenFileOption = None,
    server: ServerOption = None,
    repo: RepoOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Record a review decision on a version as the token's principal (approver role); the
    version's author can never review it (four eyes).

    Example: cairn models approve credit-default 3 --token-file risk.token
    --ticket MRR-2026-0123 --decision approve --note "validated on 2026Q1"
    """
    from cairn.ui.output import jsonable

    doing = f"review {name} v{version}"
    if server is not None:
        body: dict[str, Any] = {"ticket": ticket, "note": note}
        if reviewer is not None:
            body["reviewer"] = reviewer
        path = f"/v1/models/{name}/versions/{version}/{decision.value}"
        done = remote(server, require_token(token_file, doing), "POST", path, body)
    else:
        project = open_project(repo)
        who = acting_principal(project, token_file, doing)
        done = jsonable(
            project.registry.approve(
                name,
                version,
                principal=who,
                reviewer=reviewer,
                ticket=ticket,
                decision=decision.value,
                note=note,
            )
        )
    verb = "approved" if done["decision"] == "approve" else "rejected"
    emit_json(
        done,
        as_json,
        lambda: console.print(
            f"Recorded: {done['reviewer']} {verb} "
            f"{done['model']} v{done['version']} (author {done['author']}) under {done['ticket']}."
        ),
    )


def _promote(
    name: str,
    version: str,
    alias: str,
    reason: str,
    *,
    token_file: Path | None,
    server: str | None,
    repo: Path,
    as_json: bool,
) -> None:
    """Move ``alias`` to ``version`` as the token's principal, locally or on ``server``."""
    from cairn.ui.terminal.models import print_promotion

    doing = f"move {name}@{alias}"
    if server is not None:
        body = {"alias": alias, "reason": reason}
        path = f"/v1/models/{name}/versions/{version}/promote"
        data = remote(server, require_token(token_file, doing), "POST", path, body)
        emit_json(data, as_json, lambda: _print_remote_promotion(data))
        return
    project = open_project(repo)
    who = acting_principal(project, token_file, doing)
    done = project.registry.promote(name, version, alias=alias, principal=who, reason=reason)
    emit_json(done, as_json, lambda: print_promotion(done))


def _print_remote_promotion(data: dict[str, Any]) -> None:
    moves = data.get("moves") or []
    if not moves:
        console.print(
            f"{data['model']}@{data['alias']} is already v{data['version']}; nothing moved."
        )
    for m in moves:
        before = "-" if m.get("previous") is None else f"v{m['previous']}"
        after = "-" if m.get("version") is None else f"v{m['version']}"
        console.print(f"{m['model']}@{m['alias']}: {before} -> {after} ({m['reason']})")


@app.command()
@one_line_errors
def promote(
    name: Annotated[str, typer.Argument(help="Registered model name.")],
    version: Annotated[str, typer.Argument(help="Version to promote.")],
    reason: ReasonOption,
    alias: Annotated[
        str, typer.Option(help="champion, fallback, challenger or challenger-<name>.")
    ] = "champion",
    token_file: TokenFileOption = None,
    server: ServerOption = None,
    repo: RepoOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Make a version champion as the token's principal (deployer role; needs another
    person's approval; the old champion becomes fallback), or point another alias at it.

    Example: cairn models promote credit-default 3 --reason "MRR-2026-0123 approved"
    --token-file ana.token
    """
    _promote(
        name, version, alias, reason, token_file=token_file, server=server, repo=repo,
        as_json=as_json,
    )  # fmt: skip


@app.command("alias")
@one_line_errors
def set_alias(
    name: Annotated[str, typer.Argument(help="Registered model name.")],
    alias: Annotated[str, typer.Argument(help="champion, fallback, challenger[-name].")],
    version: Annotated[str | None, typer.Argument(help="Version (omit with --remove).")] = None,
    reason: ReasonOption = "",
    remove: Annotated[bool, typer.Option("--remove", help="Remove the alias.")] = False,
    token_file: TokenFileOption = None,
    server: ServerOption = None,
    repo: RepoOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Point an alias at a version (champion follows the promotion rules), or remove one, as
    the token's principal (deployer role).

    Example: cairn models alias credit-default challenger-hgb 4 --reason "shadow test"
    --token-file ana.token
    """
    if not remove:
        if version is None:
            raise typer.BadParameter("VERSION is required (or use --remove)")
        _promote(
            name, version, alias, reason, token_file=token_file, server=server, repo=repo,
            as_json=as_json,
        )  # fmt: skip
        return
    if version is not None:
        raise typer.BadParameter("give no VERSION with --remove")
    doing = f"remove {name}@{alias}"
    if server is not None:
        path = f"/v1/models/{name}/aliases/{alias}/remove"
        move = remote(server, require_token(token_file, doing), "POST", path, {"reason": reason})
        previous = move.get("previous")
    else:
        project = open_project(repo)
        who = acting_principal(project, token_file, doing)
        moved = project.registry.remove_alias(name, alias, principal=who, reason=reason)
        move, previous = moved, moved.previous
    emit_json(
        move,
        as_json,
        lambda: console.print(f"Removed {name}@{alias} (was v{previous})."),
    )


@app.command()
@one_line_errors
def policy(
    name: Annotated[str, typer.Argument(help="Registered model name.")],
    four_eyes: Annotated[
        bool | None,
        typer.Option(
            "--four-eyes/--no-four-eyes",
            help="Require (default) or waive another person's approval for champion.",
        ),
    ] = None,
    approver_not_promoter: Annotated[
        bool | None,
        typer.Option(
            "--approver-not-promoter/--approver-may-promote",
            help="Whether whoever approved a version may also promote it (default: may).",
        ),
    ] = None,
    min_approvals: Annotated[
        int | None,
        typer.Option(
            "--min-approvals", min=1, help="Approvals by distinct people needed for champion."
        ),
    ] = None,
    reason: Annotated[
        str, typer.Option("--reason", help="Why the policy changes (required to change it).")
    ] = "",
    token_file: TokenFileOption = None,
    server: ServerOption = None,
    repo: RepoOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Show a model's promotion policy, or change it as the token's principal (admin role; a
    change is an audited action with a reason).

    Example: cairn models policy credit-default --min-approvals 2 --approver-not-promoter
    --reason "MRC-2026-0007 high risk" --token-file admin.token
    """
    changes: dict[str, Any] = {
        k: v
        for k, v in {
            "require_four_eyes": four_eyes,
            "approver_not_promoter": approver_not_promoter,
            "min_approvals": min_approvals,
        }.items()
        if v is not None
    }
    doing = f"change the promotion policy of {name}"
    if server is not None:
        if changes:
            body = {**changes, "reason": reason}
            token = require_token(token_file, doing)
            current = remote(server, token, "POST", f"/v1/models/{name}/policy", body)
        else:
            token = require_token(token_file, f"read the promotion policy of {name}")
            current = remote(server, token, "GET", f"/v1/models/{name}/policy")
    else:
        project = open_project(repo)
        if changes:
            who = acting_principal(project, token_file, doing)
            found = project.registry.set_policy(name, principal=who, reason=reason, **changes)
        else:
            found = project.registry.policy(name)
        current = {"model": name, **found.to_dict()}
    if as_json:
        emit_json(current, True, lambda: None)
        return
    state = "required" if current["require_four_eyes"] else "[yellow]WAIVED[/]"
    rules = f"{current.get('min_approvals', 1)} approval(s)"
    if current.get("approver_not_promoter"):
        rules += ", approver may not promote"
    since = ""
    if current.get("changed_by") and current.get("changed_at"):
        when = str(current["changed_at"])[:16].replace("T", " ")
        since = f" (set by {current['changed_by']} at {when}: {current['reason']})"
    console.print(f"{name}: four-eyes approval for champion {state}, {rules}{since}.")


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


@app.command()
@one_line_errors
def explain(
    name: Annotated[str, typer.Argument(help="Registered model name.")],
    version: Annotated[str, typer.Argument(help="The version to explain.")],
    repo: RepoOption = Path("."),
    html: Annotated[
        Path | None, typer.Option("--out", help="Write the explanation as an HTML page here.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Show a version's global explanation, computed at training time: importance, partial
    dependence and ICE of the top features, the contributions per feature (and a scorecard's
    points table).

    Example: cairn models explain credit-default 3 --out explanation.html
    """
    from cairn.app.model_explanation import version_explanation

    project = open_project(repo)
    explanation = version_explanation(project.registry, name, version)
    if html is not None:
        from cairn.explain.report import write_html

        write_html(explanation, html)
        if not as_json:
            console.print(f"Wrote the explanation of {name} v{explanation.version} to {html}")
            return
    emit_json(explanation.to_dict(), as_json, lambda: _print_explanation(explanation))


def _print_explanation(e: GlobalExplanation) -> None:
    from rich.table import Table

    gain_total = sum((e.gain or {}).values())
    table = Table(
        "feature", "mean |contribution|", "gain share", "higher raises",
        title=f"{e.model} v{e.version} ({e.family}, {e.units}, {e.rows} rows)",
    )  # fmt: skip
    rises = {s.feature: s.rises for s in e.summary}
    for feature, value in e.importance.items():
        gain = "-" if e.gain is None or not gain_total else f"{e.gain[feature] / gain_total:.1%}"
        rise = rises.get(feature)
        table.add_row(feature, f"{value:.4f}", gain, "-" if rise is None else f"{rise:.0%}")
    console.print(table)
    curves = Table("feature", "partial dependence (value: mean probability)", title="Top features")
    for d in e.dependence:
        step = max(len(d.grid) // 5, 1)
        picks = sorted({*range(0, len(d.grid), step), len(d.grid) - 1}) if d.grid else []
        curves.add_row(
            d.feature, "  ".join(f"{d.grid_labels[i]}: {d.average[i]:.3f}" for i in picks)
        )
    console.print(curves)


from cairn.cli.models_verify import verify as _verify  # noqa: E402

app.command("verify")(_verify)
