"""One bearer credential -> one :class:`Principal`: an API token of the project, else an
OIDC/JWT bearer token of the configured identity provider.

An API token secret starts with ``cairn_``; anything else shaped like a JWT (three dot-separated
parts) goes to the OIDC verifier when one is configured. Both raise
:class:`AuthenticationError` naming what failed, never which other secrets exist.

Example
-------
>>> import sqlalchemy as sa
>>> from cairn.registry import AuditLog
>>> engine = sa.create_engine("sqlite://")
>>> tokens = TokenStore(engine, "credit", AuditLog(engine, "credit"))
>>> _, secret = tokens.create("owner", "admin")
>>> auth = Authenticator(tokens)
>>> auth.authenticate(f"Bearer {secret}").name
'owner'
>>> auth.authenticate("eyJhbGciOi.eyJzdWIi.c2ln")
Traceback (most recent call last):
...
cairn.auth.principal.AuthenticationError: The credential is a JWT, but auth.oidc is not set.
"""

from __future__ import annotations

from cairn.auth.oidc import OidcVerifier
from cairn.auth.principal import AuthenticationError, Principal
from cairn.auth.tokens import SECRET_PREFIX, TokenStore, _strip_bearer

__all__ = ["Authenticator"]


class Authenticator:
    """Authenticates bearer credentials against a project's token store and OIDC settings.

    Parameters
    ----------
    tokens:
        The project's API tokens (None: API tokens are not accepted).
    oidc:
        The OIDC/JWT verifier (None: JWTs are not accepted).
    """

    def __init__(self, tokens: TokenStore | None, oidc: OidcVerifier | None = None) -> None:
        self.tokens = tokens
        self.oidc = oidc

    def authenticate(self, bearer: str | None) -> Principal:
        """The principal proven by ``bearer`` (with or without ``Bearer ``)."""
        given = _strip_bearer(bearer or "")
        if not given:
            raise AuthenticationError(
                "No credential: give an API token (CAIRN_TOKEN or --token-file; HTTP: "
                "'Authorization: Bearer <token>')."
            )
        if given.startswith(SECRET_PREFIX):
            if self.tokens is None:
                raise AuthenticationError("API tokens are not accepted here.")
            return self.tokens.authenticate(given)
        if given.count(".") == 2:
            if self.oidc is None:
                raise AuthenticationError("The credential is a JWT, but auth.oidc is not set.")
            return self.oidc.verify(given)
        raise AuthenticationError(
            f"The credential is neither an API token (they start with {SECRET_PREFIX!r}) nor "
            "a JWT: check CAIRN_TOKEN / --token-file."
        )
