"""OIDC/JWT bearer tokens: a token signed by the organisation's identity provider, verified
against the configured issuer, audience and signing keys (JWKS).

The signature (RS256, ES256 or EdDSA by default — never ``none`` or a shared HMAC secret), the
issuer (``iss``), the audience (``aud``) and the validity window (``exp``, ``nbf``, with
``leeway_s`` of clock skew) are checked by PyJWT. Keys come from ``jwks_url`` (fetched and
cached by :class:`jwt.PyJWKClient`) or from ``jwks_file`` (offline, air-gapped set-ups). The
principal's name is the ``name_claim`` (``sub``) and its role the ``role_claim``
(``cairn_role``), which must be one of the roles (a list of roles gives the highest).

Example
-------
>>> verifier = OidcVerifier(issuer="https://idp.example", audience="cairn",
...                         jwks_file="/nonexistent/jwks.json")
>>> verifier.verify("not-a-jwt")
Traceback (most recent call last):
...
cairn.auth.principal.AuthenticationError: The bearer token is not a valid JWT (Not enough segments).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cairn.auth.principal import ROLES, AuthenticationError, Principal, Role
from cairn.core.errors import ConfigError

if TYPE_CHECKING:
    import jwt

__all__ = ["DEFAULT_ALGORITHMS", "OidcVerifier"]

DEFAULT_ALGORITHMS: tuple[str, ...] = ("RS256", "ES256", "EdDSA")


@dataclass
class OidcVerifier:
    """Verifies OIDC/JWT bearer tokens of one issuer and audience.

    Parameters
    ----------
    issuer, audience:
        The required ``iss`` and ``aud``.
    jwks_url, jwks_file:
        Where the issuer's public keys are (exactly one).
    algorithms:
        Accepted signature algorithms.
    name_claim, role_claim:
        Claims holding the principal's name and role.
    leeway_s:
        Clock skew allowed on ``exp`` and ``nbf``, in seconds.
    """

    issuer: str
    audience: str
    jwks_url: str | None = None
    jwks_file: str | Path | None = None
    algorithms: Sequence[str] = DEFAULT_ALGORITHMS
    name_claim: str = "sub"
    role_claim: str = "cairn_role"
    leeway_s: float = 30.0
    _client: Any = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if (self.jwks_url is None) == (self.jwks_file is None):
            raise ConfigError(
                "auth.oidc needs exactly one of jwks_url (the issuer's JWKS endpoint) or "
                f"jwks_file (a JWKS JSON file); got jwks_url={self.jwks_url!r}, "
                f"jwks_file={self.jwks_file!r}."
            )
        bad = [a for a in self.algorithms if a.lower() == "none" or a.upper().startswith("HS")]
        if bad or not self.algorithms:
            raise ConfigError(
                "auth.oidc.algorithms must list asymmetric algorithms (RS256, ES256, EdDSA, ...); "
                f"got {list(self.algorithms)!r}."
            )

    def verify(self, token: str) -> Principal:
        """The principal a JWT proves; :class:`AuthenticationError` naming what failed."""
        import jwt

        try:
            key = self._key(token)
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=list(self.algorithms),
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway_s,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise AuthenticationError("The bearer JWT has expired (exp).") from None
        except jwt.ImmatureSignatureError:
            raise AuthenticationError("The bearer JWT is not valid yet (nbf/iat).") from None
        except jwt.InvalidIssuerError:
            raise AuthenticationError(
                f"The bearer JWT was not issued by {self.issuer} (iss)."
            ) from None
        except jwt.InvalidAudienceError:
            raise AuthenticationError(
                f"The bearer JWT is not meant for {self.audience} (aud)."
            ) from None
        except jwt.InvalidSignatureError:
            raise AuthenticationError(
                f"The bearer JWT's signature does not verify with the keys of {self.issuer}."
            ) from None
        except jwt.MissingRequiredClaimError as exc:
            raise AuthenticationError(f"The bearer JWT has no {exc.claim!r} claim.") from None
        except jwt.PyJWKClientError as exc:
            raise AuthenticationError(f"No signing key for the bearer JWT: {exc}") from None
        except jwt.InvalidTokenError as exc:
            raise AuthenticationError(f"The bearer token is not a valid JWT ({exc}).") from None
        except ConfigError:
            raise
        except (TypeError, ValueError, jwt.PyJWTError) as exc:  # a key of another type
            raise AuthenticationError(
                f"The bearer JWT's signature does not verify with the keys of {self.issuer} "
                f"({exc})."
            ) from None
        return Principal(
            self._name(claims), self._role(claims), via=f"jwt:{self.issuer}", token_id=None
        )

    def _key(self, token: str) -> Any:
        import jwt

        if self.jwks_url is not None:
            if self._client is None:
                self._client = jwt.PyJWKClient(self.jwks_url, cache_keys=True, lifespan=300)
            return self._client.get_signing_key_from_jwt(token).key
        header = jwt.get_unverified_header(token)
        keys = self._file_keys()
        kid = header.get("kid")
        usable = [k for k in keys if kid is None or k.key_id == kid]
        if not usable:
            raise jwt.PyJWKClientError(
                f"the JWT's key id {kid!r} is not in {self.jwks_file} (its ids: "
                f"{', '.join(str(k.key_id) for k in keys) or 'none'})"
            )
        if kid is None and len(usable) > 1:
            raise jwt.PyJWKClientError(
                f"the JWT names no key id (kid) and {self.jwks_file} holds {len(usable)} keys"
            )
        return usable[0].key

    def _file_keys(self) -> list[jwt.PyJWK]:
        import jwt

        path = Path(str(self.jwks_file))
        try:
            data = json.loads(path.read_text())
            return list(jwt.PyJWKSet.from_dict(data).keys)
        except (OSError, ValueError, jwt.PyJWTError) as exc:
            raise ConfigError(
                f"auth.oidc.jwks_file {path} must be a readable JWKS JSON file "
                f'({{"keys": [...]}}); reading it failed: {exc}'
            ) from None

    def _name(self, claims: dict[str, Any]) -> str:
        name = claims.get(self.name_claim)
        if not isinstance(name, str) or not name.strip():
            raise AuthenticationError(
                f"The bearer JWT has no usable {self.name_claim!r} claim (the principal's name); "
                f"got {name!r}."
            )
        return name.strip()

    def _role(self, claims: dict[str, Any]) -> Role:
        value = claims.get(self.role_claim)
        given = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        roles = [r.strip().lower() for r in given if isinstance(r, str)]
        valid = [r for r in ROLES if r in roles]
        if not valid:
            raise AuthenticationError(
                f"The bearer JWT's {self.role_claim!r} claim must be one of "
                f"{', '.join(ROLES)} (or a list of them); got {value!r}."
            )
        return valid[-1]
