"""Admin routes: auth on every endpoint (no token 401, a too-low role 403, the right role 2xx,
admin off 403), errors as 4xx JSON, and a fuzz of the published schema (never a 5xx)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import StaticPool

from cairn.auth import Principal
from cairn.core.errors import ConfigError
from cairn.rollouts.service import apply_changes, build_spec
from cairn.serving import create_app
from cairn.serving.admin import AdminTokens, RolloutUpdate, UnknownDeploymentError
from cairn.serving.routing import RolloutChange, RolloutSpec, RolloutStore
from tests.serving._client import TestClient

TOKENS = AdminTokens.parse("viewer:v-tok,deployer:ana:d-tok,approver:carla:a-tok")
SETUP = Principal("setup", "deployer", via="test")
BASE = "credit-default@champion"
CANARY = {"strategy": "canary", "candidate": "credit-default/2"}
BLUE_GREEN = {"strategy": "blue-green", "green": "credit-default/2"}


class FakeRollouts:
    """The admin protocol over an in-memory store, with the real request parsing and no
    registry (a model ``.../99`` is unknown; promoting ``.../3`` breaks the four-eyes rule)."""

    def __init__(self) -> None:
        engine = sa.create_engine(
            "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
        )  # one in-memory database shared by the threads the routes run the service in
        self.store = RolloutStore(engine)
        self.calls: list[tuple[str, str, str]] = []

    def _check(self, deployment: str) -> None:
        if deployment != "credit":
            raise UnknownDeploymentError(f"No deployment {deployment!r}; deployments: credit.")

    def _put(self, spec: RolloutSpec, principal: Principal, what: str) -> RolloutUpdate:
        before = self.store.current(spec.deployment)
        self.calls.append((what, principal.name, principal.role))
        stored = self.store.put(spec, actor=principal.name, reason=what)
        return RolloutUpdate(stored, before)

    def status(self, deployment: str) -> dict[str, Any]:
        self._check(deployment)
        spec = self.store.current(deployment) or RolloutSpec.single(deployment, BASE)
        return {"deployment": deployment, "rollout": spec.to_dict()}

    def history(self, deployment: str) -> list[RolloutChange]:
        self._check(deployment)
        return self.store.history(deployment)

    def create(
        self,
        deployment: str,
        request: Mapping[str, Any],
        *,
        principal: Principal,
        reason: str = "",
        replace: bool = False,
    ) -> RolloutUpdate:
        self._check(deployment)
        spec = build_spec(deployment, request, base=BASE)
        if any(m.endswith("/99") for m in spec.models()):
            raise KeyError("Model 'credit-default' has no version '99'.")
        return self._put(spec, principal, "create")

    def set(
        self,
        deployment: str,
        changes: Mapping[str, Any],
        *,
        principal: Principal,
        reason: str = "",
    ) -> RolloutUpdate:
        self._check(deployment)
        current = self.store.current(deployment)
        if current is None:
            raise ConfigError("no rollout yet")
        return self._put(apply_changes(current, changes), principal, "set")

    def _current(self, deployment: str) -> RolloutSpec:
        self._check(deployment)
        current = self.store.current(deployment)
        if current is None:
            raise ConfigError("no rollout yet")
        return current

    def switch(
        self, deployment: str, *, principal: Principal, reason: str = "", to: str | None = None
    ) -> RolloutUpdate:
        spec = self._current(deployment)
        live = to or ("green" if spec.live == "blue" else "blue")
        return self._put(spec.with_changes(live=live), principal, "switch")

    def rollback(self, deployment: str, *, principal: Principal, reason: str = "") -> RolloutUpdate:
        spec = self._current(deployment)
        return self._put(spec.with_changes(state="rolled_back"), principal, "rollback")

    def promote(
        self, deployment: str, *, principal: Principal, reason: str = "", arm: str | None = None
    ) -> RolloutUpdate:
        spec = self._current(deployment)
        if spec.arms[-1].model.endswith("/3"):
            raise PermissionError("four eyes: credit-default v3 has no approval.")
        return self._put(RolloutSpec.single(deployment, BASE), principal, "promote")


def _reader(features: list[str], rows: list[dict[str, Any]], full: bool) -> dict[str, list[Any]]:
    return {"customer_id": [r.get("customer_id") for r in rows], "found": [False] * len(rows)}


def client(tokens: AdminTokens | str | None = TOKENS) -> tuple[TestClient, FakeRollouts]:
    fake = FakeRollouts()
    app = create_app(_reader, rollouts=fake, admin_token=tokens)
    return TestClient(app, raise_server_exceptions=False), fake


P = "/v1/deployments/credit/rollout"
ENDPOINTS = [
    # method, path, role, body, what the rollout must be first
    ("GET", P, "viewer", None, None),
    ("GET", f"{P}/history", "viewer", None, None),
    ("POST", P, "deployer", CANARY, None),
    ("POST", P, "deployer", {"stages": [10, 100]}, CANARY),
    ("POST", f"{P}/switch", "deployer", {"reason": "go"}, BLUE_GREEN),
    ("POST", f"{P}/rollback", "deployer", None, CANARY),
    ("POST", f"{P}/promote", "approver", {"reason": "MRR-2026-0001"}, CANARY),
]
TOKEN_OF = {"viewer": "v-tok", "deployer": "d-tok", "approver": "a-tok"}
LOWER = {"deployer": "viewer", "approver": "deployer"}


def _call(c: TestClient, method: str, path: str, body: Any, token: str | None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return c.request(method, path, json=body, headers=headers)


@pytest.mark.parametrize(("method", "path", "role", "body", "first"), ENDPOINTS)
def test_every_admin_endpoint_needs_its_role(
    method: str, path: str, role: str, body: Any, first: Any
) -> None:
    c, fake = client()
    if first is not None:
        fake.create("credit", first, principal=SETUP)
    missing = _call(c, method, path, body, None)
    assert missing.status_code == 401 and missing.json()["error"]["type"] == "unauthorized"
    wrong = _call(c, method, path, body, "not-a-token")
    assert wrong.status_code == 401
    if role in LOWER:
        low = _call(c, method, path, body, TOKEN_OF[LOWER[role]])
        assert low.status_code == 403, low.text
        assert low.json()["error"] == {
            "type": "forbidden",
            "message": f"This endpoint needs the {role} role; the token given has the "
            f"{LOWER[role]} role.",
        }
    calls = len(fake.calls)
    ok = _call(c, method, path, body, TOKEN_OF[role])
    assert ok.status_code == 200, ok.text
    if method == "POST":
        assert fake.calls[calls:] != [] and fake.calls[-1][1:] == (
            {"deployer": "ana", "approver": "carla"}[role],
            role,
        )
    higher = _call(c, method, path, body if method == "GET" else None, "a-tok")
    assert higher.status_code in (200, 422)  # approver may do everything (a body may not fit)
    admin, _ = client("root-token")  # CAIRN_ADMIN_TOKEN alone: one token with every role
    assert _call(admin, "GET", P, None, "root-token").status_code == 200


@pytest.mark.parametrize(("method", "path", "role", "body", "first"), ENDPOINTS)
def test_admin_off_refuses_every_endpoint(
    method: str, path: str, role: str, body: Any, first: Any
) -> None:
    c, _ = client(None)
    r = _call(c, method, path, body, "anything")
    assert r.status_code == 403 and r.json()["error"]["type"] == "admin_disabled"


@pytest.mark.parametrize(
    ("body", "status", "type_", "message"),
    [
        (
            {
                "strategy": "ab",
                "arms": [
                    {"name": "a", "model": "credit-default/1", "weight": 0.5},
                    {"name": "b", "model": "credit-default/2", "weight": 0.6},
                ],
            },
            422,
            "invalid_rollout",
            "arm weights must sum to 1",
        ),
        ({"strategy": "canary", "candidate": "credit-default/99"}, 422, "unknown_model", "'99'"),
        (
            {"strategy": "canary", "candidate": "credit-default/2", "stages": [50, 25, 100]},
            422,
            "invalid_rollout",
            "stages must be strictly increasing",
        ),
        ({"strategy": "canary", "replace": "yes"}, 422, "invalid_request", "replace must be"),
        ({"reason": 7}, 422, "invalid_request", "reason must be a string"),
        ({"live": "green"}, 422, "invalid_rollout", "no rollout yet"),
    ],
)
def test_bad_input_is_a_4xx_json_error(
    body: dict[str, Any], status: int, type_: str, message: str
) -> None:
    c, _ = client()
    r = _call(c, "POST", P, body, "d-tok")
    assert r.status_code == status, r.text
    assert r.json()["error"]["type"] == type_ and message in r.json()["error"]["message"]


def test_governance_refusal_conflict_and_unknown_deployment() -> None:
    c, fake = client()
    fake.create("credit", {"strategy": "canary", "candidate": "credit-default/3"}, principal=SETUP)
    refused = _call(c, "POST", f"{P}/promote", None, "a-tok")
    assert refused.status_code == 409 and refused.json()["error"]["type"] == "governance"
    unknown = _call(c, "GET", "/v1/deployments/fraud/rollout", None, "v-tok")
    assert unknown.status_code == 404 and "deployments: credit" in unknown.text
    bad = c.post(f"{P}/switch", content=b"[1]", headers={"Authorization": "Bearer d-tok"})
    assert bad.status_code == 422 and "JSON object" in bad.text
    extra = _call(c, "POST", f"{P}/rollback", {"to": "blue"}, "d-tok")
    assert extra.status_code == 422 and "Unknown field 'to'" in extra.text


def test_history_lists_every_version() -> None:
    c, _ = client()
    _call(c, "POST", P, CANARY, "d-tok")
    _call(c, "POST", P, {"gate": {"min_samples": 50}, "reason": "faster"}, "d-tok")
    history = _call(c, "GET", f"{P}/history", None, "v-tok").json()["history"]
    assert [h["version"] for h in history] == [1, 2]
    assert history[1]["actor"] == "ana" and history[1]["rollout"]["gate"]["min_samples"] == 50


def test_tokens_config_errors_are_clear() -> None:
    with pytest.raises(ConfigError, match=r"entry 1 must be ROLE:TOKEN .* got 'owner:\*\*\*'"):
        AdminTokens.parse("owner:secret-value")
    with pytest.raises(ConfigError, match="entry 2 repeats a token"):
        AdminTokens.parse("viewer:same,deployer:same")


# The admin routes are fuzzed with schemathesis against the REAL rollout service in
# tests/serving/test_never_500.py; a fuzz run against FakeRollouts missed three 500s once.
