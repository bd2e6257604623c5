"""The admin routes over the real rollout service and a governed registry: bad input is a
4xx JSON error naming the problem, and changes are audited under the token's name and role."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cairn.serving import create_app
from cairn.serving.admin import AdminTokens
from tests.rollouts import _rollout
from tests.serving._client import TestClient
from tests.tracking._fixtures import mlflow_template

__all__ = ["mlflow_template"]

TOKENS = AdminTokens.parse("viewer:v-tok,deployer:ana:d-tok,approver:carla:a-tok")
P = "/v1/deployments/credit/rollout"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, mlflow_template: Path) -> Path:
    return _rollout.build(tmp_path_factory.mktemp("admin") / "credit", mlflow_template, 7)


@pytest.fixture
def api(template: Path, tmp_path: Path) -> tuple[TestClient, Any]:
    service = _rollout.service(_rollout.copy(template, tmp_path / "credit"))

    def reader(features: list[str], rows: list[dict[str, Any]], full: bool) -> dict[str, Any]:
        return {"found": [False] * len(rows)}

    app = create_app(reader, rollouts=service, admin_token=TOKENS)
    return TestClient(app, raise_server_exceptions=False), service


def post(c: TestClient, path: str, body: dict[str, Any], token: str) -> Any:
    return c.post(path, json=body, headers={"Authorization": f"Bearer {token}"})


@pytest.mark.parametrize(
    ("body", "status", "type_", "message"),
    [
        (
            {
                "strategy": "ab",
                "arms": [
                    {"name": "a", "model": "credit-default/1", "weight": 0.5},
                    {"name": "b", "model": "credit-default/3", "weight": 0.6},
                ],
            },
            422,
            "invalid_rollout",
            "arm weights must sum to 1; got a=0.5, b=0.6 (sum 1.1).",
        ),
        (
            {"strategy": "canary", "candidate": "credit-default@nope"},
            422,
            "unknown_model",
            "Model 'credit-default' has no alias 'nope'",
        ),
        (
            {"strategy": "single", "model": "credit-default/2"},
            409,
            "governance",
            "four eyes: credit-default v2 (author ana) is not approved by a second person",
        ),
        (
            {"strategy": "canary", "candidate": "credit-default/3", "stages": [5, 50, 25, 100]},
            422,
            "invalid_rollout",
            "stages must be strictly increasing; got [5.0, 50.0, 25.0, 100.0].",
        ),
    ],
)
def test_bad_input_is_one_clear_4xx(
    api: tuple[TestClient, Any], body: dict[str, Any], status: int, type_: str, message: str
) -> None:
    c, service = api
    r = post(c, P, body, "d-tok")
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["type"] == type_ and message in error["message"]
    assert service.store.current("credit") is None


def test_changes_are_audited_under_the_token_holder(api: tuple[TestClient, Any]) -> None:
    c, service = api
    made = post(
        c, P, {"strategy": "canary", "candidate": "credit-default/3", "reason": "go"}, "d-tok"
    )
    assert made.status_code == 200, made.text
    assert made.json()["rollout"]["arms"][1]["model"] == "credit-default/3"
    promoted = post(c, f"{P}/promote", {"reason": "MRR-2026-0003"}, "a-tok")
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["notes"] == ["credit-default v3 is now champion"]
    status = c.get(P, headers={"Authorization": "Bearer v-tok"}).json()
    assert status["arms"][0]["version"] == "3"
    entries = service.registry.audit.entries(subject="deployment/credit")
    assert [(e.action, e.actor, e.details["role"]) for e in entries] == [
        ("rollout.created", "ana", "deployer"),
        ("rollout.promoted", "carla", "approver"),
    ]
    promotion = service.registry.audit.entries(action="model.promoted")[-1]
    assert promotion.actor == "carla" and promotion.subject == "credit-default/3"
    assert service.registry.audit.verify().ok
