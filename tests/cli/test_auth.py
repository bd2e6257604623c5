"""`cairn init` writes the first admin token; `cairn auth token create|list|revoke` and
`cairn auth whoami` manage and show tokens (secrets printed once, never listed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from cairn.app.project import Project
from cairn.auth._tables import api_tokens
from cairn.cli.main import app


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.delenv("CAIRN_TOKEN", raising=False)
    monkeypatch.setenv("CAIRN_USER", "owner")
    return CliRunner()


@pytest.fixture
def project(runner: CliRunner, tmp_path: Path) -> Path:
    root = tmp_path / "p"
    done = runner.invoke(app, ["init", str(root)])
    assert done.exit_code == 0, done.output
    return root


def _auth(runner: CliRunner, root: Path, *args: str, token: Path | None = None) -> Result:
    extra = ["--token-file", str(token)] if token is not None else []
    return runner.invoke(app, ["auth", *args, "--repo", str(root), *extra])


def test_init_writes_the_first_admin_token(runner: CliRunner, tmp_path: Path) -> None:
    root = tmp_path / "p"
    done = runner.invoke(app, ["init", str(root)])
    assert done.exit_code == 0, done.output
    token = root / ".cairn" / "admin.token"
    assert token.stat().st_mode & 0o777 == 0o600
    assert ".cairn/" in (root / ".gitignore").read_text().splitlines()
    assert f"export CAIRN_TOKEN=$(cat {token})" in done.stdout
    assert f"--token-file {token}" in done.stdout
    assert "Created the blank project 'p'" in done.stdout  # the rest of init's output stays
    with Project.open(root) as opened:
        who = opened.authenticate(token.read_text())
    assert (who.name, who.role) == ("owner", "admin")
    again = runner.invoke(app, ["init", str(root), "--force"])
    assert again.exit_code == 0 and "already has API tokens" in again.stdout
    assert token.read_text().strip().startswith("cairn_")


def test_token_create_list_whoami_and_revoke(
    runner: CliRunner, project: Path, tmp_path: Path
) -> None:
    admin = project / ".cairn" / "admin.token"
    made = _auth(runner, project, "token", "create", "--holder", "ana", "--role", "deployer",
                 token=admin)  # fmt: skip
    assert made.exit_code == 0, made.output
    secret = made.stdout.strip()
    assert secret.startswith("cairn_") and len(secret.splitlines()) == 1
    assert "for ana (deployer)" in made.stderr and "shown once" in made.stderr
    ana = tmp_path / "ana.token"
    ana.write_text(secret)
    who = _auth(runner, project, "whoami", "--json", token=ana)
    assert json.loads(who.stdout)["name"] == "ana"
    listed = _auth(runner, project, "token", "list", "--json")  # reading needs no token locally
    rows = json.loads(listed.stdout)
    assert {(r["holder"], r["role"], r["state"]) for r in rows} == {
        ("owner", "admin", "active"),
        ("ana", "deployer", "active"),
    }
    assert secret not in listed.stdout and "hash" not in rows[0]
    with Project.open(project) as opened, opened.metadata.engine.connect() as conn:
        stored = [dict(r._mapping) for r in conn.execute(sa.select(api_tokens))]
    assert secret not in json.dumps(stored, default=str)
    ana_id = next(r["id"] for r in rows if r["holder"] == "ana")
    refused = _auth(runner, project, "token", "create", "--holder", "eve", "--role", "viewer",
                    token=ana)  # fmt: skip
    assert refused.exit_code == 1  # a role too low: authorization said no
    assert "needs the admin role" in refused.stderr
    revoked = _auth(runner, project, "token", "revoke", ana_id, "--reason", "left", token=admin)
    assert revoked.exit_code == 0 and f"Revoked API token {ana_id} of ana" in revoked.stdout
    after = _auth(runner, project, "whoami", token=ana)
    assert after.exit_code == 2 and "was revoked" in after.stderr


def test_refusals_are_one_line_exit_2(runner: CliRunner, project: Path, tmp_path: Path) -> None:
    admin = project / ".cairn" / "admin.token"
    cases = [
        (["whoami"], None, "you need a token: set CAIRN_TOKEN or give --token-file"),
        (["token", "create", "--holder", "x", "--role", "viewer"], None, "you need a token"),
        (["token", "create", "--holder", "x", "--role", "viewer", "--expires", "soon"], admin,
         "--expires must be"),
        (["token", "create", "--holder", "a b", "--role", "viewer"], admin, "--holder must be"),
        (["token", "revoke", "tk_nope"], admin, "No API token 'tk_nope'"),
        (["whoami"], tmp_path / "missing.token", "cannot read it"),
    ]  # fmt: skip
    for args, token, says in cases:
        done = _auth(runner, project, *args, token=token)
        assert done.exit_code == 2, (args, done.output)
        assert says in done.stderr and len(done.stderr.strip().splitlines()) == 1
