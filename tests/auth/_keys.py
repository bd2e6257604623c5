"""Local signing keys and JWTs for the OIDC tests: an RSA and an EC key pair, their JWKS file."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

ISSUER = "https://idp.example.test"
AUDIENCE = "cairn-credit"


class Keys:
    """Two key pairs (``rsa-1``, ``ec-1``) and a third RSA key nobody trusts (``rogue``)."""

    def __init__(self) -> None:
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec = ec.generate_private_key(ec.SECP256R1())
        self.rogue = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwks(self) -> dict[str, Any]:
        """The trusted public keys as a JWKS document."""
        one = json.loads(RSAAlgorithm.to_jwk(self.rsa.public_key()))
        two = json.loads(ECAlgorithm.to_jwk(self.ec.public_key()))
        one.update(kid="rsa-1", use="sig", alg="RS256")
        two.update(kid="ec-1", use="sig", alg="ES256")
        return {"keys": [one, two]}

    def write_jwks(self, path: Path) -> Path:
        path.write_text(json.dumps(self.jwks()))
        return path

    def token(
        self,
        *,
        sub: str | None = "ana",
        role: Any = "approver",
        iss: str = ISSUER,
        aud: str = AUDIENCE,
        exp_in: float = 300,
        nbf_in: float | None = None,
        key: str = "rsa",
        kid: str | None = "rsa-1",
        extra: dict[str, Any] | None = None,
    ) -> str:
        """A signed JWT with the given claims (``None`` leaves a claim out)."""
        now = int(time.time())
        claims: dict[str, Any] = {"iss": iss, "aud": aud, "iat": now, "exp": now + int(exp_in)}
        if sub is not None:
            claims["sub"] = sub
        if role is not None:
            claims["cairn_role"] = role
        if nbf_in is not None:
            claims["nbf"] = now + int(nbf_in)
        claims.update(extra or {})
        signers: dict[str, tuple[rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, str]] = {
            "rsa": (self.rsa, "RS256"),
            "ec": (self.ec, "ES256"),
            "rogue": (self.rogue, "RS256"),
        }
        signer, alg = signers[key]
        headers = {"kid": kid} if kid is not None else {}
        return jwt.encode(claims, signer, algorithm=alg, headers=headers)
