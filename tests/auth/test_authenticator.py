"""``Project.authenticate``: the project's API tokens, and OIDC JWTs when ``auth.oidc`` is set
(the JWKS file relative to the project folder); anything else proves nobody."""

from __future__ import annotations

from pathlib import Path

import pytest

from cairn.app.project import Project
from cairn.auth import AuthenticationError
from cairn.auth.bootstrap import ADMIN_TOKEN_FILE, write_first_admin_token
from tests.auth._keys import AUDIENCE, ISSUER, Keys


def _project(root: Path, keys: Keys, *, oidc: bool) -> Project:
    text = "project: credit\n"
    if oidc:
        keys.write_jwks(root / "jwks.json")
        text += f"auth:\n  oidc:\n    issuer: {ISSUER}\n    audience: {AUDIENCE}\n"
        text += "    jwks_file: jwks.json\n"
    (root / "cairn.yaml").write_text(text)
    return Project.open(root)


def test_tokens_and_jwts_authenticate(tmp_path: Path, keys: Keys) -> None:
    with _project(tmp_path, keys, oidc=True) as project:
        made = write_first_admin_token(project.tokens, project.root, holder="owner")
        assert made is not None and made.path == tmp_path / ADMIN_TOKEN_FILE
        assert made.path.stat().st_mode & 0o777 == 0o600
        admin = project.authenticate(made.path.read_text())
        assert (admin.name, admin.role) == ("owner", "admin")
        _, secret = project.tokens.create("ana", "deployer", created_by=admin)
        assert project.authenticate(f"Bearer {secret}").name == "ana"
        jwt_who = project.authenticate(f"Bearer {keys.token(sub='bo', role='approver')}")
        assert (jwt_who.name, jwt_who.role, jwt_who.via) == ("bo", "approver", f"jwt:{ISSUER}")
        with pytest.raises(AuthenticationError, match="has expired"):
            project.authenticate(keys.token(exp_in=-3600))


def test_without_oidc_settings_a_jwt_is_refused(tmp_path: Path, keys: Keys) -> None:
    with _project(tmp_path, keys, oidc=False) as project:
        with pytest.raises(AuthenticationError, match="auth.oidc is not set"):
            project.authenticate(keys.token())
        for bad in ("", "Bearer ", "letmein"):
            with pytest.raises(AuthenticationError):
                project.authenticate(bad)
