"""`cairn auth token create|list|revoke` and `cairn auth whoami`: API tokens and principals.

A token's secret is printed once, on stdout alone (``... > ana.token`` keeps it in a file);
what was created is said on stderr. Creating and revoking tokens needs an admin token
(``CAIRN_TOKEN`` or ``--token-file``; ``cairn init`` writes the project's first one to
``.cairn/admin.token``); a token's holder may revoke their own.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from cairn.cli._auth import ServerOption, TokenFileOption, acting_principal, remote, require_token
from cairn.cli._console import RepoOption, console, err_console, one_line_errors
from cairn.cli._output import JsonOption, emit_json
from cairn.cli._project import open_project

app = typer.Typer(
    help="Authentication: API tokens (created by an admin, stored as hashes) and whoami.",
    no_args_is_help=True,
)
token_app = typer.Typer(
    help="API tokens: create (secret shown once), list (no secrets), revoke.",
    no_args_is_help=True,
)
app.add_typer(token_app, name="token")


class RoleChoice(StrEnum):
    """A principal's role (viewer < deployer < approver < admin)."""

    viewer = "viewer"
    deployer = "deployer"
    approver = "approver"
    admin = "admin"


@token_app.command("create")
@one_line_errors
def create(
    holder: Annotated[str, typer.Option(help="Who holds it: the name the audit log records.")],
    role: Annotated[RoleChoice, typer.Option(help="viewer, deployer, approver or admin.")],
    expires: Annotated[str, typer.Option(help="Lifetime: 90d, 12h, 30m, 2w, or never.")] = "90d",
    token_file: TokenFileOption = None,
    server: ServerOption = None,
    repo: RepoOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Create an API token (admin); its secret is printed once, on stdout.

    Example: cairn auth token create --holder ana --role deployer --expires 90d > ana.token
    """
    from cairn.auth.tokens import parse_duration

    lifetime = parse_duration(expires)
    if server is not None:
        token = require_token(token_file, "create API tokens")
        body = {"holder": holder, "role": role.value, "expires": expires}
        made = remote(server, token, "POST", "/v1/auth/tokens", body)
        secret, info = made.pop("secret"), made
    else:
        project = open_project(repo)
        who = acting_principal(project, token_file, "create API tokens")
        created, secret = project.tokens.create(holder, role.value, lifetime, created_by=who)
        info = created.to_dict()
    if as_json:
        emit_json({**info, "secret": secret}, True, lambda: None)
        return
    until = info["expires_at"] or "never"
    err_console.print(
        f"Created API token {info['id']} for {info['holder']} ({info['role']}), expires "
        f"{until}. The secret below is shown once: store it now (e.g. redirect it to a file "
        "readable only by its holder).",
        highlight=False,
        soft_wrap=True,
    )
    typer.echo(secret)


@token_app.command("list")
@one_line_errors
def list_tokens(
    token_file: TokenFileOption = None,
    server: ServerOption = None,
    repo: RepoOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """List the project's API tokens: id, holder, role, state, expiry (never a secret).

    Example: cairn auth token list --json
    """
    if server is not None:
        token = require_token(token_file, "list API tokens on a server")
        rows = remote(server, token, "GET", "/v1/auth/tokens")["tokens"]
    else:
        rows = [t.to_dict() for t in open_project(repo).tokens.list()]

    def show() -> None:
        from rich.table import Table

        if not rows:
            console.print("No API tokens: `cairn init` creates the first admin token.")
            return
        table = Table("id", "holder", "role", "state", "created", "by", "expires", "revoked")
        for r in rows:
            table.add_row(
                r["id"],
                r["holder"],
                r["role"],
                r["state"],
                r["created_at"][:16],
                r["created_by"],
                (r["expires_at"] or "never")[:16],
                "-" if r["revoked_at"] is None else f"{r['revoked_at'][:16]} by {r['revoked_by']}",
            )
        console.print(table)

    emit_json(rows, as_json, show)


@token_app.command("revoke")
@one_line_errors
def revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id (tk_...), from `list`.")],
    reason: Annotated[str, typer.Option(help="Why (kept in the audit log).")] = "",
    token_file: TokenFileOption = None,
    server: ServerOption = None,
    repo: RepoOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Revoke an API token at once (admin, or the token's own holder).

    Example: cairn auth token revoke tk_1a2b3c4d5e6f --reason "ana left the team"
    """
    if server is not None:
        token = require_token(token_file, "revoke API tokens")
        info = remote(
            server, token, "POST", f"/v1/auth/tokens/{token_id}/revoke", {"reason": reason}
        )
    else:
        project = open_project(repo)
        who = acting_principal(project, token_file, "revoke API tokens")
        info = project.tokens.revoke(token_id, by=who, reason=reason).to_dict()
    emit_json(
        info,
        as_json,
        lambda: console.print(
            f"Revoked API token {info['id']} of {info['holder']} ({info['role']}).",
            highlight=False,
        ),
    )


@app.command()
@one_line_errors
def whoami(
    token_file: TokenFileOption = None,
    server: ServerOption = None,
    repo: RepoOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Show the principal your token proves: name, role and how it was proven.

    Example: CAIRN_TOKEN=$(cat .cairn/admin.token) cairn auth whoami
    """
    token = require_token(token_file, "say who you are")
    if server is not None:
        who = remote(server, token, "GET", "/v1/auth/whoami")
    else:
        who = open_project(repo).authenticate(token).to_dict()
    emit_json(
        who,
        as_json,
        lambda: console.print(f"{who['name']} ({who['role']}, {who['via']})", highlight=False),
    )
