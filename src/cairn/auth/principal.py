"""Who acts: an authenticated :class:`Principal` with a :data:`Role`.

Every governance action (approve/reject, promote, alias move, policy change, rollout changes,
retraining approval) is performed by a principal: a name proven by an API token or an OIDC/JWT
bearer token, never a name typed on a command line. Roles are ordered
``viewer < deployer < approver < admin``; a principal may do what its role and every lower role
may.

Example
-------
>>> ana = Principal("ana", "approver", via="token:tk_1a2b")
>>> ana.may("deployer"), ana.may("admin")
(True, False)
>>> ana.require("admin", "set it")
Traceback (most recent call last):
...
cairn.auth.principal.AccessDeniedError: ana (approver) may not set it: that needs the admin role.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, cast

from cairn.core.errors import CairnError

__all__ = [
    "ROLES",
    "AccessDeniedError",
    "AuthenticationError",
    "Principal",
    "Role",
    "parse_role",
]

Role = Literal["viewer", "deployer", "approver", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "deployer", "approver", "admin")


class AuthenticationError(CairnError, PermissionError):
    """No credential, or one that proves nobody (unknown, revoked, expired, bad signature).

    HTTP: 401. CLI: exit 2 (bad input) with one line naming what was wrong."""

    status = 401


class AccessDeniedError(CairnError, PermissionError):
    """An authenticated principal whose role does not cover the action. HTTP: 403."""

    status = 403


def parse_role(value: object, *, owner: str = "role") -> Role:
    """``value`` as a :data:`Role`, or a ConfigError-like error naming ``owner``."""
    from cairn.core.errors import ConfigError

    if isinstance(value, str) and value.strip().lower() in ROLES:
        return cast(Role, value.strip().lower())
    raise ConfigError(f"{owner} must be one of {', '.join(ROLES)}; got {value!r}.")


@dataclass(frozen=True)
class Principal:
    """An authenticated actor.

    ``name`` is what the audit log records as the actor; ``via`` says how it was proven
    (``token:<id>`` for an API token, ``jwt:<issuer>`` for an OIDC token, ``env:<label>`` for a
    server token from the environment); ``token_id`` is the API token's id when there is one.
    """

    name: str
    role: Role
    via: str = "unknown"
    token_id: str | None = None

    def may(self, role: Role) -> bool:
        """Whether this principal's role covers ``role``."""
        return ROLES.index(self.role) >= ROLES.index(role)

    def require(self, role: Role, action: str) -> Principal:
        """``self`` if its role covers ``role``, else :class:`AccessDeniedError` naming
        ``action``."""
        if not self.may(role):
            raise AccessDeniedError(
                f"{self.name} ({self.role}) may not {action}: that needs the {role} role."
            )
        return self

    def to_dict(self) -> dict[str, Any]:
        """What the audit log stores about who acted (never a secret)."""
        return {"name": self.name, "role": self.role, "via": self.via}
