"""OIDC/JWT bearer tokens signed by a local key pair and checked against a JWKS file or URL:
the signature, issuer, audience, validity window and role claim all decide."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest

from cairn.auth import AuthenticationError, OidcVerifier
from cairn.core.errors import ConfigError
from tests.auth._keys import AUDIENCE, ISSUER, Keys


@pytest.fixture
def verifier(keys: Keys, tmp_path: Path) -> OidcVerifier:
    jwks = keys.write_jwks(tmp_path / "jwks.json")
    return OidcVerifier(issuer=ISSUER, audience=AUDIENCE, jwks_file=jwks, leeway_s=0)


@pytest.mark.parametrize("key, kid", [("rsa", "rsa-1"), ("ec", "ec-1")])
def test_a_signed_token_proves_its_subject_and_role(
    verifier: OidcVerifier, keys: Keys, key: str, kid: str
) -> None:
    who = verifier.verify(keys.token(sub="ana", role="approver", key=key, kid=kid))
    assert (who.name, who.role, who.via, who.token_id) == ("ana", "approver", f"jwt:{ISSUER}", None)


def test_a_list_of_roles_gives_the_highest(verifier: OidcVerifier, keys: Keys) -> None:
    assert verifier.verify(keys.token(role=["viewer", "deployer", "other"])).role == "deployer"


@pytest.mark.parametrize(
    "claims, message",
    [
        ({"key": "rogue"}, "signature does not verify"),
        ({"key": "ec", "kid": "rsa-1"}, "not a valid JWT|signature does not verify"),
        ({"iss": "https://evil.example"}, "not issued by https://idp.example.test"),
        ({"aud": "another-app"}, "not meant for cairn-credit"),
        ({"exp_in": -60}, "has expired"),
        ({"nbf_in": 600}, "not valid yet"),
        ({"role": None}, "'cairn_role' claim must be one of viewer, deployer, approver, admin"),
        ({"role": "superuser"}, "got 'superuser'"),
        ({"role": ["root"]}, "got \\['root'\\]"),
        ({"sub": None}, "no usable 'sub' claim"),
        ({"kid": "unknown"}, "key id 'unknown' is not in"),
    ],
)
def test_a_bad_token_is_refused_naming_why(
    verifier: OidcVerifier, keys: Keys, claims: dict[str, Any], message: str
) -> None:
    with pytest.raises(AuthenticationError, match=message):
        verifier.verify(keys.token(**claims))


def test_symmetric_and_unsigned_tokens_are_refused(verifier: OidcVerifier, keys: Keys) -> None:
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "eve", "cairn_role": "admin", "exp": 2**40}
    forged = jwt.encode(claims, "a-shared-secret-" * 4, algorithm="HS256", headers={"kid": "rsa-1"})
    with pytest.raises(AuthenticationError, match="not a valid JWT|signature"):
        verifier.verify(forged)
    unsigned = jwt.encode(claims, None, algorithm="none", headers={"kid": "rsa-1"})  # type: ignore[arg-type]
    with pytest.raises(AuthenticationError):
        verifier.verify(unsigned)
    with pytest.raises(ConfigError, match="asymmetric"):
        OidcVerifier(issuer=ISSUER, audience=AUDIENCE, jwks_file="x", algorithms=["HS256"])


def test_exp_is_required(verifier: OidcVerifier, keys: Keys) -> None:
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "ana", "cairn_role": "viewer"}
    token = jwt.encode(claims, keys.rsa, algorithm="RS256", headers={"kid": "rsa-1"})
    with pytest.raises(AuthenticationError, match="no 'exp' claim"):
        verifier.verify(token)


def test_leeway_allows_clock_skew(keys: Keys, tmp_path: Path) -> None:
    jwks = keys.write_jwks(tmp_path / "jwks.json")
    lenient = OidcVerifier(issuer=ISSUER, audience=AUDIENCE, jwks_file=jwks, leeway_s=120)
    assert lenient.verify(keys.token(exp_in=-30)).name == "ana"


def test_custom_claims_name_the_principal(keys: Keys, tmp_path: Path) -> None:
    jwks = keys.write_jwks(tmp_path / "jwks.json")
    verifier = OidcVerifier(
        issuer=ISSUER, audience=AUDIENCE, jwks_file=jwks, name_claim="email", role_claim="grp"
    )
    token = keys.token(role=None, extra={"email": "ana@bank.example", "grp": "admin"})
    assert verifier.verify(token).to_dict()["name"] == "ana@bank.example"


def test_a_missing_jwks_file_is_a_config_error(keys: Keys, tmp_path: Path) -> None:
    verifier = OidcVerifier(issuer=ISSUER, audience=AUDIENCE, jwks_file=tmp_path / "none.json")
    with pytest.raises(ConfigError, match="jwks_file .*none.json must be a readable JWKS"):
        verifier.verify(keys.token())
    with pytest.raises(ConfigError, match="exactly one of jwks_url"):
        OidcVerifier(issuer=ISSUER, audience=AUDIENCE)


@pytest.fixture
def jwks_url(keys: Keys) -> Iterator[str]:
    """The JWKS served over HTTP by a local server (what an identity provider publishes)."""
    body = json.dumps(keys.jwks()).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_keys_from_a_jwks_url(keys: Keys, jwks_url: str) -> None:
    verifier = OidcVerifier(issuer=ISSUER, audience=AUDIENCE, jwks_url=jwks_url)
    assert verifier.verify(keys.token(key="ec", kid="ec-1", role="admin")).role == "admin"
    with pytest.raises(AuthenticationError, match="signature does not verify"):
        verifier.verify(keys.token(key="rogue"))
    with pytest.raises(AuthenticationError, match="No signing key"):
        verifier.verify(keys.token(kid="missing"))
