"""API tokens: long random secrets that stand for a holder with a role, stored only as hashes.

A token is created by an admin (``cairn auth token create --holder ana --role deployer``) — or,
once per project, by ``cairn init`` as the project's first admin token. Its secret
(``cairn_`` + 43 random URL-safe characters, 256 bits) is returned once; the database keeps its
SHA-256 hash, which is enough for a secret of that strength (no password stretching needed) and
is compared in constant time. Creating and revoking a token are entries of the project's audit
chain (``token.created``, ``token.revoked``) committed with the row; their details never hold
the secret.

Example
-------
>>> import sqlalchemy as sa
>>> from cairn.registry import AuditLog
>>> engine = sa.create_engine("sqlite://")
>>> store = TokenStore(engine, "credit", AuditLog(engine, "credit"))
>>> root, root_secret = store.create("owner", "admin")  # the first admin token: no principal
>>> admin = store.authenticate(root_secret)
>>> info, secret = store.create("ana", "deployer", parse_duration("90d"), created_by=admin)
>>> store.authenticate(secret).name, store.authenticate("Bearer " + secret).role
('ana', 'deployer')
>>> _ = store.revoke(info.id, by=admin)
>>> store.authenticate(secret)
Traceback (most recent call last):
...
cairn.auth.principal.AuthenticationError: API token ... of ana was revoked at ... by owner.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from cairn.auth._tables import api_tokens, metadata
from cairn.auth.principal import (
    AccessDeniedError,
    AuthenticationError,
    Principal,
    Role,
    parse_role,
)
from cairn.core.errors import ConfigError
from cairn.core.timeutil import utcnow

__all__ = ["SECRET_PREFIX", "TokenAudit", "TokenInfo", "TokenStore", "parse_duration"]

SECRET_PREFIX = "cairn_"
"""Every API token secret starts with this (so a leaked one is easy to recognise and scan for)."""
HOLDER_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$")
_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}

Step = Callable[[Connection, datetime], Mapping[str, Any]]


class TokenAudit(Protocol):
    """Where token changes are recorded: the project's audit chain
    (:class:`cairn.registry.AuditLog` implements it)."""

    def append_with(self, actor: str, action: str, subject: str, step: Step) -> Any:
        """Append one entry in the same transaction as ``step``'s writes."""
        ...


def parse_duration(text: str | None) -> timedelta | None:
    """``90d``, ``12h``, ``30m`` or ``2w`` as a timedelta; ``never``, ``""`` or None: None.

    Example
    -------
    >>> parse_duration("90d"), parse_duration("never")
    (datetime.timedelta(days=90), None)
    """
    if text is None or text.strip().lower() in ("", "never", "none"):
        return None
    found = re.fullmatch(r"\s*(\d+)\s*([mhdw])\s*", text.lower())
    if found is None or int(found.group(1)) == 0:
        raise ConfigError(
            f"--expires must be a positive number of minutes, hours, days or weeks like 90d, "
            f"12h, 30m or 2w (or 'never'); got {text!r}."
        )
    return timedelta(seconds=int(found.group(1)) * _UNITS[found.group(2)])


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _strip_bearer(value: str) -> str:
    text = value.strip()
    return text[7:].strip() if text[:7].lower() == "bearer " else text


@dataclass(frozen=True)
class TokenInfo:
    """One API token, without its secret: who holds it, its role and its life."""

    id: str
    project: str
    holder: str
    role: Role
    created_at: datetime
    created_by: str
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    revoked_by: str | None = None

    def state(self, now: datetime | None = None) -> str:
        """``active``, ``expired`` or ``revoked``."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= (now or utcnow()):
            return "expired"
        return "active"

    def principal(self) -> Principal:
        """The principal this token proves."""
        return Principal(self.holder, self.role, via=f"token:{self.id}", token_id=self.id)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (no secret, no hash)."""

        def iso(ts: datetime | None) -> str | None:
            return None if ts is None else ts.isoformat()

        return {
            "id": self.id,
            "holder": self.holder,
            "role": self.role,
            "state": self.state(),
            "created_at": iso(self.created_at),
            "created_by": self.created_by,
            "expires_at": iso(self.expires_at),
            "revoked_at": iso(self.revoked_at),
            "revoked_by": self.revoked_by,
        }


class TokenStore:
    """The API tokens of one project, in the metadata database (SQLite or PostgreSQL).

    Parameters
    ----------
    engine:
        The metadata database; the token table is created (migration 0004) on first use.
    project:
        Whose tokens.
    audit:
        The project's audit chain; token creation and revocation are entries of it.
    now:
        The clock (tests inject one to expire tokens).
    """

    def __init__(
        self,
        engine: Engine,
        project: str,
        audit: TokenAudit,
        *,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        from cairn.metadata import create_tables

        self.engine = engine
        self.project = project
        self.audit = audit
        self.now = now
        create_tables(metadata, engine)

    def create(
        self,
        holder: str,
        role: Role,
        expires: timedelta | None = None,
        *,
        created_by: Principal | None = None,
    ) -> tuple[TokenInfo, str]:
        """A new token for ``holder`` with ``role``; returns its info and its secret (once).

        ``created_by`` must be an admin. Without it, only the project's first admin token is
        created (what ``cairn init`` does); any later call raises :class:`AccessDeniedError`.
        """
        holder = holder.strip() if isinstance(holder, str) else holder
        if not isinstance(holder, str) or not HOLDER_PATTERN.match(holder):
            raise ConfigError(
                "--holder must be 1-128 letters, digits or . _ @ + - (starting with a letter "
                f"or digit), the name the audit log records; got {holder!r}."
            )
        role = parse_role(role, owner="--role")
        if expires is not None and expires <= timedelta(0):
            raise ConfigError(f"A token's lifetime must be positive; got {expires}.")
        if created_by is not None:
            self._require(created_by, "token.create", f"token/holder:{holder}", "create API tokens")
        elif role != "admin":
            raise AccessDeniedError(
                f"Creating a {role} token of project {self.project} needs an admin token "
                "(CAIRN_TOKEN or --token-file)."
            )
        token_id = f"tk_{secrets.token_hex(6)}"
        secret = SECRET_PREFIX + secrets.token_urlsafe(32)
        actor = created_by.name if created_by is not None else holder
        found: list[TokenInfo] = []

        def step(conn: Connection, _at: datetime) -> Mapping[str, Any]:
            at = self.now()
            if created_by is None and self._count(conn) > 0:
                raise AccessDeniedError(
                    f"Project {self.project} already has API tokens: creating another needs an "
                    "admin token (CAIRN_TOKEN or --token-file)."
                )
            info = TokenInfo(
                token_id,
                self.project,
                holder,
                role,
                created_at=at,
                created_by=actor,
                expires_at=None if expires is None else at + expires,
            )
            conn.execute(api_tokens.insert().values(**_row(info), hash=_hash(secret)))
            found[:] = [info]
            details: dict[str, Any] = {
                "token_id": token_id,
                "holder": holder,
                "role": role,
                "expires_at": info.to_dict()["expires_at"],
                "first_admin_token": created_by is None,
            }
            if created_by is not None:
                details["principal"] = created_by.to_dict()
            return details

        self.audit.append_with(actor, "token.created", f"token/{token_id}", step)
        return found[0], secret

    def list(self) -> list[TokenInfo]:
        """Every token of the project (active, expired and revoked), oldest first; no secrets."""
        query = (
            sa.select(api_tokens)
            .where(api_tokens.c.project == self.project)
            .order_by(api_tokens.c.created_at, api_tokens.c.id)
        )
        with self.engine.connect() as conn:
            return [_info(r) for r in conn.execute(query)]

    def get(self, token_id: str) -> TokenInfo:
        """One token by id; a LookupError naming the ids there are."""
        with self.engine.connect() as conn:
            row = conn.execute(self._by_id(token_id)).first()
        if row is None:
            ids = ", ".join(t.id for t in self.list()) or "none"
            raise _UnknownTokenError(
                f"No API token {token_id!r} in project {self.project}; its tokens: {ids}."
            )
        return _info(row)

    def revoke(self, token_id: str, *, by: Principal, reason: str = "") -> TokenInfo:
        """Revoke a token at once (an admin, or the token's own holder); idempotent on an
        already revoked token (returns it unchanged, no new audit entry)."""
        current = self.get(token_id)
        if by.token_id != token_id:
            doing = f"revoke API token {token_id} of {current.holder}"
            self._require(by, "token.revoke", f"token/{token_id}", doing)
        if current.revoked_at is not None:
            return current
        done: list[TokenInfo] = []

        def step(conn: Connection, _at: datetime) -> Mapping[str, Any]:
            at = self.now()
            conn.execute(
                api_tokens.update()
                .where(api_tokens.c.project == self.project, api_tokens.c.id == token_id)
                .values(revoked_at=at, revoked_by=by.name)
            )
            done[:] = [_info(conn.execute(self._by_id(token_id)).one())]
            return {
                "token_id": token_id,
                "holder": current.holder,
                "role": current.role,
                "reason": reason,
                "principal": by.to_dict(),
            }

        self.audit.append_with(by.name, "token.revoked", f"token/{token_id}", step)
        return done[0]

    def authenticate(self, secret: str) -> Principal:
        """The principal of an API token secret (``Bearer`` prefix allowed).

        Raises :class:`AuthenticationError` when the secret is unknown, revoked or expired.
        """
        given = _strip_bearer(secret)
        digest = _hash(given)
        query = sa.select(api_tokens).where(
            api_tokens.c.project == self.project, api_tokens.c.hash == digest
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None or not hmac.compare_digest(str(row.hash), digest):
            raise AuthenticationError(
                f"Unknown API token for project {self.project}: create one with `cairn auth "
                "token create --holder NAME --role ROLE` (an admin), or check CAIRN_TOKEN / "
                "--token-file."
            )
        info = _info(row)
        if info.revoked_at is not None:
            raise AuthenticationError(
                f"API token {info.id} of {info.holder} was revoked at "
                f"{info.revoked_at:%Y-%m-%d %H:%M} by {info.revoked_by}."
            )
        if info.state(self.now()) == "expired":
            assert info.expires_at is not None
            raise AuthenticationError(
                f"API token {info.id} of {info.holder} expired at "
                f"{info.expires_at:%Y-%m-%d %H:%M} UTC: ask an admin for a new one."
            )
        return info.principal()

    def _require(self, who: Principal, action: str, subject: str, doing: str) -> None:
        """``who`` must be an admin; a refusal is a ``governance.refused`` audit entry."""
        try:
            who.require("admin", f"{doing} of project {self.project}")
        except AccessDeniedError as exc:
            details = {"action": action, "reason": str(exc), "principal": who.to_dict()}
            self.audit.append_with(who.name, "governance.refused", subject, lambda *_: details)
            raise

    def _by_id(self, token_id: str) -> sa.Select[Any]:
        return sa.select(api_tokens).where(
            api_tokens.c.project == self.project, api_tokens.c.id == token_id
        )

    def _count(self, conn: Connection) -> int:
        query = sa.select(sa.func.count()).where(api_tokens.c.project == self.project)
        return int(conn.execute(query).scalar_one())


class _UnknownTokenError(ConfigError, LookupError):
    """No token with that id."""


def _row(info: TokenInfo) -> dict[str, Any]:
    return {
        "id": info.id,
        "project": info.project,
        "holder": info.holder,
        "role": info.role,
        "created_at": info.created_at,
        "created_by": info.created_by,
        "expires_at": info.expires_at,
    }


def _info(row: Any) -> TokenInfo:
    from cairn.metadata import utc

    def at(ts: datetime | None) -> datetime | None:
        return None if ts is None else utc(ts)

    created = at(row.created_at)
    assert created is not None
    return TokenInfo(
        id=row.id,
        project=row.project,
        holder=row.holder,
        role=parse_role(row.role),
        created_at=created,
        created_by=row.created_by,
        expires_at=at(row.expires_at),
        revoked_at=at(row.revoked_at),
        revoked_by=row.revoked_by,
    )
