"""Authentication and roles: who performs a governance action, and may they.

- :class:`Principal` and :data:`Role`: an authenticated actor with a role
  (``viewer < deployer < approver < admin``).
- :class:`TokenStore`: the project's API tokens, stored only as hashes, created and revoked as
  audited actions.
- :class:`OidcVerifier`: OIDC/JWT bearer tokens checked against an issuer, an audience and its
  signing keys.
- :class:`Authenticator`: one bearer credential -> one principal (API token, else JWT).

The principal names load at once; the stores and verifiers on first use (PEP 562), so the
registry and serving can import :class:`Principal` without SQLAlchemy or PyJWT.

Example
-------
>>> Principal("ana", "deployer").may("viewer")
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cairn.auth.principal import (
    ROLES,
    AccessDeniedError,
    AuthenticationError,
    Principal,
    Role,
    parse_role,
)
from cairn.core.lazy import lazy_exports

if TYPE_CHECKING:
    from cairn.auth.authenticator import Authenticator
    from cairn.auth.oidc import OidcVerifier
    from cairn.auth.tokens import TokenInfo, TokenStore, parse_duration

__all__ = [
    "ROLES",
    "AccessDeniedError",
    "AuthenticationError",
    "Authenticator",
    "OidcVerifier",
    "Principal",
    "Role",
    "TokenInfo",
    "TokenStore",
    "parse_duration",
    "parse_role",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "Authenticator": "cairn.auth.authenticator",
        "OidcVerifier": "cairn.auth.oidc",
        "TokenInfo": "cairn.auth.tokens",
        "TokenStore": "cairn.auth.tokens",
        "parse_duration": "cairn.auth.tokens",
    },
)
