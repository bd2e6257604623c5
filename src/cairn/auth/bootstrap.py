"""The first admin token of an embedded single-user project, written by ``cairn init``.

The secret goes to ``.cairn/admin.token`` (mode 0600; ``.cairn/`` is in the project's
``.gitignore``). Its holder then creates per-person tokens with it
(``cairn auth token create --holder ana --role deployer``) and keeps it for admin work, or
revokes it once another admin token exists.

Example
-------
>>> import pathlib, tempfile, sqlalchemy as sa
>>> from cairn.registry import AuditLog
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> engine = sa.create_engine("sqlite://")
>>> store = TokenStore(engine, "demo", AuditLog(engine, "demo"))
>>> made = write_first_admin_token(store, root, holder="owner")
>>> made.path.relative_to(root).as_posix(), oct(made.path.stat().st_mode & 0o777)
('.cairn/admin.token', '0o600')
>>> store.authenticate(made.path.read_text()).role
'admin'
>>> write_first_admin_token(store, root, holder="owner") is None  # the project has tokens
True
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cairn.auth.tokens import HOLDER_PATTERN, TokenInfo, TokenStore

__all__ = ["ADMIN_TOKEN_FILE", "FirstToken", "write_first_admin_token"]

ADMIN_TOKEN_FILE = Path(".cairn") / "admin.token"
"""Where ``cairn init`` writes the first admin token, relative to the project folder."""


@dataclass(frozen=True)
class FirstToken:
    """The first admin token: its info (no secret) and the file holding its secret."""

    info: TokenInfo
    path: Path


def write_first_admin_token(store: TokenStore, root: Path, *, holder: str) -> FirstToken | None:
    """Create the project's first admin token and write its secret to
    ``<root>/.cairn/admin.token`` (0600); None when the project has tokens already (its
    admins create more)."""
    if store.list():
        return None
    name = holder if HOLDER_PATTERN.match(holder) else "admin"
    info, secret = store.create(name, "admin")
    path = root / ADMIN_TOKEN_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(secret + "\n")
    return FirstToken(info, path)
