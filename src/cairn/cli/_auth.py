"""Who a CLI governance command acts as: the principal of a token, locally or on a server.

Governance commands (``cairn models approve|promote|alias|policy``, ``cairn deploy
create|set|switch|promote|rollback``, ``cairn auth token create|revoke``) act with a token:
``--token-file PATH`` (a file holding the secret) or ``CAIRN_TOKEN``. ``CAIRN_USER`` never says
who acted. Locally the project authenticates the token (:meth:`Project.authenticate`); with
``--server URL`` the command calls the server's routes with ``Authorization: Bearer <token>``
and prints the server's error as one line.

Exit codes (:mod:`cairn.cli._console` holds the contract): no token, or one that proves nobody
(unknown, expired, revoked, bad signature, unreadable token file): 2, bad input; a role too low
(locally or the server's 403), or a governance rule that refuses (four eyes, self-approval, a
missing approval): 1, the authorization said no; each with one line naming what was needed.
Success exits 0.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cairn.auth.principal import AccessDeniedError, AuthenticationError, Principal
from cairn.core.errors import CairnError

if TYPE_CHECKING:
    import httpx

    from cairn.app.project import Project

__all__ = [
    "RemoteError",
    "ServerOption",
    "TokenFileOption",
    "acting_principal",
    "bearer_token",
    "http_client",
    "remote",
]

TokenFileOption = Annotated[
    Path | None,
    typer.Option(
        "--token-file",
        help="File holding the API token (or OIDC JWT) to act with; default: CAIRN_TOKEN.",
        show_default=False,
    ),
]
ServerOption = Annotated[
    str | None,
    typer.Option(
        "--server",
        help="Act on a running `cairn serve` at this URL instead of the local project.",
        show_default=False,
    ),
]

HOW_TO_GET_ONE = (
    "set CAIRN_TOKEN or give --token-file PATH: a token from an admin (`cairn auth token "
    "create --holder NAME --role ROLE`), or the first admin token `cairn init` wrote to "
    ".cairn/admin.token"
)


class RemoteError(CairnError):
    """A server refused or failed a request; the message is the server's."""


def bearer_token(token_file: Path | None) -> str | None:
    """The token to act with: the contents of ``token_file``, else ``CAIRN_TOKEN``."""
    if token_file is not None:
        try:
            text = token_file.read_text().strip()
        except OSError as exc:
            raise AuthenticationError(
                f"--token-file {token_file}: cannot read it ({exc.strerror or exc})."
            ) from None
        if not text:
            raise AuthenticationError(f"--token-file {token_file} is empty; it must hold a token.")
        return text
    from cairn.core.config import process_settings

    token = process_settings().token
    return token.get_secret_value().strip() if token is not None else None


def require_token(token_file: Path | None, doing: str) -> str:
    """:func:`bearer_token`, or one line telling how to get one."""
    token = bearer_token(token_file)
    if not token:
        raise AuthenticationError(f"To {doing} you need a token: {HOW_TO_GET_ONE}.")
    return token


def acting_principal(project: Project, token_file: Path | None, doing: str) -> Principal:
    """The principal of the command's token, authenticated by ``project``."""
    return project.authenticate(require_token(token_file, doing))


def http_client(server: str) -> httpx.Client:
    """The HTTP client of ``--server`` (tests replace it with an in-process client)."""
    import httpx

    return httpx.Client(base_url=server.rstrip("/"), timeout=30.0)


def remote(
    server: str,
    token: str,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
) -> Any:
    """Call ``path`` on ``server`` with the bearer ``token``; the JSON answer, or the server's
    error as :class:`AuthenticationError` (401), :class:`AccessDeniedError` (403) or
    :class:`RemoteError`."""
    import httpx

    try:
        with http_client(server) as client:
            answer = client.request(
                method,
                path,
                json=body,
                params=params,
                headers={"Authorization": f"Bearer {token}"},
            )
    except httpx.HTTPError as exc:
        raise RemoteError(f"Could not reach the server {server}: {exc}.") from None
    try:
        data = answer.json()
    except ValueError:
        data = None
    if answer.status_code < 400:
        return data
    error = data.get("error") if isinstance(data, dict) else None
    message = (
        str(error.get("message"))
        if isinstance(error, dict)
        else f"{answer.status_code} {answer.reason_phrase}"
    )
    text = f"{server} answered {answer.status_code}: {message}"
    if answer.status_code == 401:
        raise AuthenticationError(text)
    if answer.status_code == 403:
        raise AccessDeniedError(text)
    raise RemoteError(text)
