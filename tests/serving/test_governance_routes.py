"""The governance routes over a real governed project: every route with a token of every role
(allowed, 401, 403), JWTs from the configured identity provider, JSON errors (404, 409, 422,
never a 5xx), and the CLI's ``--server`` mode talking to them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cairn.app.project import Project
from cairn.app.server import build_app
from cairn.auth import ROLES, Role
from cairn.cli import _auth
from cairn.cli.main import app as cli
from cairn.serving import create_app
from cairn.serving.admin import AdminTokens
from cairn.serving.governance_routes import governance_router
from tests.auth._keys import AUDIENCE, ISSUER, Keys
from tests.auth._team import HOLDERS, Team, make_team
from tests.rollouts import _rollout
from tests.serving._client import TestClient
from tests.tracking._fixtures import mlflow_template

__all__ = ["mlflow_template"]

M = "/v1/models/credit-default"
CANARY = {"strategy": "canary", "candidate": "credit-default/3"}
# method, path, body, the role it needs
ROUTES: list[tuple[str, str, dict[str, Any] | None, Role]] = [
    ("GET", "/v1/auth/whoami", None, "viewer"),
    ("GET", M, None, "viewer"),
    ("GET", f"{M}/policy", None, "viewer"),
    ("GET", "/v1/audit", None, "viewer"),
    ("POST", f"{M}/versions/2/approve", {"ticket": "MRR-2026-0009"}, "approver"),
    ("POST", f"{M}/versions/2/reject", {"ticket": "MRR-2026-0009", "note": "unstable"},
     "approver"),
    ("POST", f"{M}/versions/3/promote", {"reason": "MRR-2026-0001 approved"}, "deployer"),
    ("POST", f"{M}/aliases/challenger-x", {"version": "3", "reason": "shadow"}, "deployer"),
    ("POST", f"{M}/aliases/challenger/remove", {"reason": "done"}, "deployer"),
    ("POST", f"{M}/policy", {"min_approvals": 2, "reason": "high risk"}, "admin"),
    ("GET", "/v1/auth/tokens", None, "admin"),
    ("POST", "/v1/auth/tokens", {"holder": "ed", "role": "viewer", "expires": "1d"}, "admin"),
    ("POST", "/v1/deployments/credit/rollout", {**CANARY, "reason": "try"}, "deployer"),
]  # fmt: skip


@pytest.fixture(scope="module")
def keys() -> Keys:
    """The test identity provider's signing keys."""
    return Keys()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, mlflow_template: Path) -> Path:
    root = _rollout.build(tmp_path_factory.mktemp("govroutes") / "credit", mlflow_template, 7)
    (root / "deployments.yaml").write_text(
        "deployments:\n  credit: {model: credit-default@champion}\n"
    )
    return root


@pytest.fixture
def repo(template: Path, tmp_path: Path, keys: Keys) -> Path:
    root = _rollout.copy(template, tmp_path / "credit")
    keys.write_jwks(root / "jwks.json")
    (root / "cairn.yaml").write_text(
        f"project: credit\nauth:\n  oidc:\n    issuer: {ISSUER}\n    audience: {AUDIENCE}\n"
        "    jwks_file: jwks.json\n"
    )
    return root


@pytest.fixture
def team(repo: Path, tmp_path: Path) -> Team:
    return make_team(repo, tmp_path / "tokens")


@pytest.fixture
def api(repo: Path) -> Iterator[TestClient]:
    """The routes as ``cairn serve`` mounts them (without loading models)."""
    project = Project.open(repo)
    tokens = AdminTokens().with_authenticator(project.authenticate)

    def reader(features: list[str], rows: list[dict[str, Any]], full: bool) -> dict[str, Any]:
        return {"found": [False] * len(rows)}

    app = create_app(reader, rollouts=project.rollouts, admin_token=tokens)
    app.include_router(governance_router(project, tokens))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
    project.close()


def _call(c: TestClient, method: str, path: str, body: Any, token: str | None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return c.request(method, path, json=body, headers=headers)


def _error(r: Any) -> dict[str, str]:
    error: dict[str, str] = r.json()["error"]
    return error


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path", "body", "needs"), ROUTES, ids=lambda v: str(v)[:40])
def test_every_route_needs_its_role(
    api: TestClient,
    team: Team,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    needs: Role,
    role: Role,
) -> None:
    r = _call(api, method, path, body, team.secrets[role])
    if ROLES.index(role) >= ROLES.index(needs):
        assert r.status_code == 200, r.text
        if path == "/v1/auth/whoami":
            assert r.json()["name"] == HOLDERS[role]
    else:
        assert r.status_code == 403, r.text
        assert _error(r)["type"] == "forbidden"
        assert f"needs the {needs} role" in _error(r)["message"]


@pytest.mark.parametrize(("method", "path", "body", "needs"), ROUTES, ids=lambda v: str(v)[:40])
def test_no_or_a_bad_credential_is_401(
    api: TestClient,
    team: Team,
    keys: Keys,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    needs: Role,
) -> None:
    for token, says in [
        (None, "Authorization: Bearer"),
        ("cairn_" + "B" * 43, "Unknown API token"),
        ("garbage", "neither an API token"),
        (keys.token(key="rogue"), "signature does not verify"),
        (keys.token(exp_in=-3600), "expired"),
        (keys.token(aud="other"), "not meant for"),
        (keys.token(role="root"), "must be one of"),
    ]:
        r = _call(api, method, path, body, token)
        assert r.status_code == 401, (token, r.text)
        assert _error(r)["type"] == "unauthorized" and says in _error(r)["message"]


def test_jwts_act_as_their_subject(api: TestClient, team: Team, keys: Keys) -> None:
    approve = f"{M}/versions/2/approve"
    viewer = keys.token(sub="vera", role="viewer")
    assert _call(api, "POST", approve, {"ticket": "MRR-1"}, viewer).status_code == 403
    officer = keys.token(sub="olga", role="approver", key="ec", kid="ec-1")
    r = _call(api, "POST", approve, {"ticket": "MRR-2026-0009"}, officer)
    assert r.status_code == 200, r.text
    assert r.json()["reviewer"] == "olga"
    entries = _call(api, "GET", "/v1/audit", None, viewer).json()["entries"]
    last = entries[-1]
    assert last["actor"] == "olga"
    assert last["details"]["principal"] == {
        "name": "olga",
        "role": "approver",
        "via": f"jwt:{ISSUER}",
    }


def test_revoked_tokens_stop_working_at_once(api: TestClient, team: Team) -> None:
    who = _call(api, "GET", "/v1/auth/whoami", None, team.secrets["deployer"]).json()
    assert who["name"] == "dana"
    tokens = _call(api, "GET", "/v1/auth/tokens", None, team.secrets["admin"]).json()["tokens"]
    dana = next(t for t in tokens if t["holder"] == "dana")
    assert "secret" not in dana and "hash" not in dana
    r = _call(api, "POST", f"/v1/auth/tokens/{dana['id']}/revoke", {}, team.secrets["admin"])
    assert r.status_code == 200 and r.json()["state"] == "revoked"
    r = _call(api, "GET", "/v1/auth/whoami", None, team.secrets["deployer"])
    assert r.status_code == 401 and "was revoked" in _error(r)["message"]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "type_", "says"),
    [
        ("GET", "/v1/models/nope", None, 404, "not_found", "nope"),
        ("POST", f"{M}/versions/99/approve", {"ticket": "MRR-1"}, 404, "not_found", "99"),
        ("POST", f"{M}/versions/2/promote", {"reason": "x"}, 409, "governance", "four eyes"),
        ("POST", f"{M}/versions/2/approve", {}, 422, "invalid_request", "needs ticket"),
        ("POST", f"{M}/versions/2/approve", {"ticket": 5}, 422, "invalid_request", "string"),
        ("POST", f"{M}/versions/2/approve", {"ticket": "T", "x": 1}, 422, "invalid_request",
         "Unknown field 'x'"),
        ("POST", f"{M}/policy", {"min_approvals": "many", "reason": "r"}, 422,
         "invalid_request", "integer"),
        ("POST", f"{M}/policy", {"require_four_eyes": "no", "reason": "r"}, 422,
         "invalid_request", "true or false"),
        ("POST", "/v1/auth/tokens/tk_nope/revoke", {}, 404, "not_found", "tk_nope"),
        ("POST", "/v1/auth/tokens", {"holder": "a b", "role": "viewer"}, 422,
         "invalid_request", "--holder must be"),
        ("POST", "/v1/auth/tokens", {"holder": "ed", "role": "god"}, 422, "invalid_request",
         "one of viewer"),
    ],
)  # fmt: skip
def test_bad_requests_are_json_4xx(
    api: TestClient,
    team: Team,
    method: str,
    path: str,
    body: Any,
    status: int,
    type_: str,
    says: str,
) -> None:
    r = _call(api, method, path, body, team.secrets["admin"])
    assert r.status_code == status, r.text
    assert _error(r)["type"] == type_ and says in _error(r)["message"]


def test_a_malformed_body_is_422(api: TestClient, team: Team) -> None:
    headers = {"Authorization": f"Bearer {team.secrets['admin']}"}
    r = api.post(f"{M}/policy", content=b"{not json", headers=headers)
    assert r.status_code == 422 and _error(r)["type"] == "invalid_request"
    r = api.post(f"{M}/policy", content=b"[1, 2]", headers=headers)
    assert r.status_code == 422 and "JSON object" in _error(r)["message"]


def test_cairn_serve_accepts_project_tokens(repo: Path, team: Team) -> None:
    """The app ``cairn serve`` builds: project API tokens on the rollout and governance
    routes, a viewer 403 on writes, no credential 401."""
    with TestClient(build_app(repo), raise_server_exceptions=False) as c:
        rollout = "/v1/deployments/credit/rollout"
        assert _call(c, "GET", rollout, None, team.secrets["viewer"]).status_code == 200
        r = _call(c, "POST", rollout, CANARY, team.secrets["viewer"])
        assert r.status_code == 403 and _error(r)["type"] == "forbidden"
        assert _call(c, "POST", rollout, CANARY, None).status_code == 401
        made = _call(c, "POST", rollout, CANARY, team.secrets["deployer"])
        assert made.status_code == 200, made.text
        assert _call(c, "GET", M, None, team.secrets["viewer"]).status_code == 200


def test_the_cli_acts_on_a_server(
    api: TestClient, team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_auth, "http_client", lambda server: api)
    monkeypatch.setattr(api, "close", lambda: None)  # the CLI closes its client after each call
    monkeypatch.delenv("CAIRN_TOKEN", raising=False)
    runner = CliRunner()
    server = ["--server", "http://cairn.test"]

    def run(*args: str, role: Role | None = None) -> Any:
        token = [] if role is None else ["--token-file", str(team.files[role])]
        return runner.invoke(cli, [*args, *server, *token])

    approve = [
        "models",
        "approve",
        "credit-default",
        "2",
        "--ticket",
        "MRR-2026-0009",
        "--decision",
    ]
    denied = run(*approve, "approve", role="deployer")
    assert denied.exit_code == 1 and "answered 403" in denied.stderr
    assert "needs the approver role" in denied.stderr
    missing = run(*approve, "approve")
    assert missing.exit_code == 2 and "you need a token" in missing.stderr
    done = run(*approve, "approve", role="approver")
    assert done.exit_code == 0, done.output
    assert "Recorded: carla approved credit-default v2 (author ana)" in done.stdout
    who = run("auth", "whoami", role="viewer")
    assert who.exit_code == 0 and "vic (viewer, token:" in who.stdout
    policy = run("models", "policy", "credit-default", "--min-approvals", "2", "--reason", "hr",
                 role="admin")  # fmt: skip
    assert policy.exit_code == 0, policy.output
    assert "2 approval(s)" in policy.stdout
    created = run("deploy", "create", "credit", "--strategy", "canary", "--candidate",
                  "credit-default/3", role="deployer")  # fmt: skip
    assert created.exit_code == 0, created.output
    assert "credit: created -> canary (active) v1" in created.stdout
    token = run("auth", "token", "create", "--holder", "ed", "--role", "viewer", role="admin")
    assert token.exit_code == 0 and token.stdout.strip().startswith("cairn_")
    listed = run("auth", "token", "list", "--json", role="admin")
    assert listed.exit_code == 0 and token.stdout.strip() not in listed.stdout
