"""The rollout service: create, change, switch, promote and roll back under governance; bad
input gives one clear error; every change is audited and the chain still verifies."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa

from cairn.auth import AccessDeniedError, Principal
from cairn.core.deployments import Deployment
from cairn.core.errors import ConfigError
from cairn.registry.errors import GovernanceError
from cairn.rollouts.controller import CONTROLLER
from cairn.rollouts.service import RolloutService, build_spec
from cairn.rollouts.store import InvalidRolloutError
from cairn.rollouts.store import rollouts as rollouts_table
from cairn.serving.admin import UnknownDeploymentError
from cairn.serving.routing import ConflictError
from cairn.tracking import UnknownModelError
from tests.rollouts import _rollout
from tests.tracking._fixtures import mlflow_template

__all__ = ["mlflow_template"]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, mlflow_template: Path) -> Path:
    return _rollout.build(tmp_path_factory.mktemp("rollout") / "credit", mlflow_template, 7)


@pytest.fixture
def svc(template: Path, tmp_path: Path) -> RolloutService:
    return _rollout.service(_rollout.copy(template, tmp_path / "credit"))


def _by(svc: RolloutService) -> dict[str, Principal]:
    return {"principal": _rollout.ANA}


def test_status_without_a_rollout_is_the_deployments_yaml_model(svc: RolloutService) -> None:
    info = svc.status("credit")
    assert info["rollout"]["strategy"] == "single" and info["rollout"]["version"] == 0
    assert info["arms"] == [
        {"name": "main", "model": "credit-default@champion", "weight": 1.0, "version": "1"}
    ]
    assert info["last_change"] is None and info["last_decision"] is None


def test_canary_pins_its_candidate_and_promotes_through_governance(svc: RolloutService) -> None:
    done = svc.create(
        "credit",
        {"strategy": "canary", "candidate": "credit-default@challenger", "stages": [10, 50, 100]},
        reason="try v2",
        **_by(svc),
    )
    spec = done.spec
    assert [(a.name, a.model) for a in spec.arms] == [
        ("control", "credit-default@champion"),
        ("canary", "credit-default/2"),  # pinned: the gates judge the version promoted
    ]
    assert spec.version == 1 and spec.weights() == {"control": 0.9, "canary": 0.1}
    assert any("four eyes" in n for n in done.notes)  # v2 is not approved yet
    with pytest.raises(GovernanceError, match="four eyes"):
        svc.promote("credit", principal=_rollout.CARLA)
    assert svc.store.current("credit") == spec  # nothing moved
    svc.registry.approve("credit-default", "2", principal=_rollout.BO, ticket="MRR-2026-0002",
                         decision="approve")  # fmt: skip
    promoted = svc.promote("credit", principal=_rollout.CARLA, reason="MRR-2026-0002")
    assert promoted.spec.strategy == "single"
    assert promoted.spec.arms[0].model == "credit-default@champion"
    aliases = svc.registry.mlflow.get_model("credit-default").aliases
    assert aliases["champion"] == "2" and aliases["fallback"] == "1"
    actions = [e.action for e in svc.registry.audit.entries(subject="deployment/credit")]
    assert actions == ["rollout.created", "rollout.promoted"]
    entry = svc.registry.audit.entries(subject="deployment/credit")[-1]
    assert entry.actor == "carla" and entry.details["role"] == "approver"
    assert entry.details["principal"] == _rollout.CARLA.to_dict()
    assert entry.details["before"]["strategy"] == "canary"
    assert entry.details["after"]["strategy"] == "single"
    assert svc.registry.audit.verify().ok


def test_rollback_of_a_canary_and_of_a_single_rollout(svc: RolloutService) -> None:
    svc.create("credit", {"strategy": "single", "model": "credit-default/3"}, **_by(svc))
    svc.create("credit", {"strategy": "canary", "candidate": "credit-default/2"}, **_by(svc))
    back = svc.rollback("credit", reason="latency alert", **_by(svc))
    assert back.spec.state == "rolled_back" and back.spec.weights()["canary"] == 0.0
    with pytest.raises(ConfigError, match="already rolled_back"):
        svc.rollback("credit", **_by(svc))
    svc.create("credit", {"strategy": "single", "model": "credit-default/1"}, **_by(svc))
    previous = svc.rollback("credit", **_by(svc))  # a single rollout returns to the one before
    assert previous.spec.strategy == "canary" and previous.spec.version == 5
    history = svc.history("credit")
    assert [c.version for c in history] == [1, 2, 3, 4, 5]
    assert history[2].reason == "latency alert"


def test_blue_green_switch_needs_an_approved_model(svc: RolloutService) -> None:
    made = svc.create("credit", {"strategy": "blue-green", "green": "credit-default/2"}, **_by(svc))
    assert made.spec.live == "blue" and made.spec.weights() == {"blue": 1.0, "green": 0.0}
    with pytest.raises(GovernanceError, match="credit-default v2 .* not approved"):
        svc.switch("credit", **_by(svc))
    svc.set("credit", {"shadows": ["credit-default/3"]}, **_by(svc))
    svc.create(
        "credit",
        {"strategy": "blue-green", "green": "credit-default/3"},
        replace=True,
        **_by(svc),
    )
    switched = svc.switch("credit", **_by(svc))
    assert switched.spec.live == "green"
    assert svc.rollback("credit", **_by(svc)).spec.live == "blue"
    with pytest.raises(ConfigError, match="already live"):
        svc.switch("credit", to="blue", **_by(svc))


def test_ab_weights_change_and_promote_needs_the_arm(svc: RolloutService) -> None:
    arms = [
        {"name": "a", "model": "credit-default@champion", "weight": 0.5},
        {"name": "b", "model": "credit-default/3", "weight": 0.5},
    ]
    svc.create("credit", {"strategy": "ab", "arms": arms}, **_by(svc))
    changed = svc.set("credit", {"weights": {"a": 0.2, "b": 0.8}}, **_by(svc))
    assert changed.spec.weights() == {"a": 0.2, "b": 0.8}
    with pytest.raises(ConfigError, match="needs the winning arm"):
        svc.promote("credit", principal=_rollout.CARLA)
    done = svc.promote("credit", principal=_rollout.CARLA, arm="b", reason="MRR-2026-0003")
    assert svc.registry.mlflow.get_model("credit-default").aliases["champion"] == "3"
    assert done.previous is not None and done.previous.strategy == "ab"


def test_hold_and_resume(svc: RolloutService) -> None:
    first = svc.create(
        "credit", {"strategy": "canary", "candidate": "credit-default/3"}, **_by(svc)
    )
    held = svc.set("credit", {"state": "held"}, **_by(svc))
    resumed = svc.set("credit", {"state": "active"}, **_by(svc))
    assert held.spec.state == "held" and resumed.spec.state == "active"
    assert resumed.spec.since > first.spec.since  # a resumed stage judges fresh data


def test_each_change_returns_the_audit_entry_it_appended(svc: RolloutService) -> None:
    """``update.entry`` is the ``rollout.*`` entry the change wrote, as the log reads it back;
    it is left out of the JSON body and of equality (callers of 0.1 see what they saw)."""
    canary = {"strategy": "canary", "candidate": "credit-default/3", "stages": [10, 50, 100]}
    arms = [
        {"name": "a", "model": "credit-default@champion", "weight": 0.5},
        {"name": "b", "model": "credit-default/3", "weight": 0.5},
    ]
    steps = [
        ("created", lambda: svc.create("credit", canary, reason="try v3", **_by(svc))),
        ("advanced", lambda: svc.advance("credit", reason="gate passed", **_by(svc))),
        ("held", lambda: svc.hold("credit", reason="alert", **_by(svc))),
        ("changed", lambda: svc.set("credit", {"state": "active"}, **_by(svc))),
        ("rolled_back", lambda: svc.rollback("credit", reason="too slow", **_by(svc))),
        ("created", lambda: svc.create(
            "credit", {"strategy": "blue-green", "green": "credit-default/3"}, **_by(svc))),
        ("switched", lambda: svc.switch("credit", reason="go green", **_by(svc))),
        ("created", lambda: svc.create(
            "credit", {"strategy": "ab", "arms": arms}, replace=True, **_by(svc))),
        ("promoted", lambda: svc.promote(
            "credit", principal=_rollout.CARLA, arm="b", reason="MRR-2026-0003")),
    ]  # fmt: skip
    for what, step in steps:
        done = step()
        logged = svc.registry.audit.entries(subject="deployment/credit")[-1]
        assert done.entry == logged and logged.action == f"rollout.{what}"
        assert logged.details["version"] == done.spec.version
        assert "entry" not in done.to_json() and "entry" not in repr(done)
        assert done == replace(done, entry=None)
    assert svc.registry.audit.verify().ok


def test_currents_reads_every_deployment_in_one_query_as_current_reads_each(
    svc: RolloutService,
) -> None:
    """A stored rollout, none stored (``deployments.yaml``'s single one) and an invalid stored
    one: :meth:`currents` equals :meth:`current` of each, from one read of the store."""
    extra = {name: Deployment.from_dict(name, {"model": "credit-default@champion"})
             for name in ("fraud", "idle")}  # fmt: skip
    many = RolloutService(svc.store, svc.registry, {**_rollout.DEPLOYMENTS, **extra})
    many.create("credit", {"strategy": "canary", "candidate": "credit-default/3"}, **_by(svc))
    many.create("fraud", {"strategy": "single", "model": "credit-default/3"}, **_by(svc))
    body = many.current("fraud").with_changes(version=2).to_dict()
    body.pop("version")
    body["stages"] = [50, 10]  # no longer validates (as a hand edit of the database might do)
    with svc.store.engine.begin() as conn:
        conn.execute(
            rollouts_table.insert().values(
                project=svc.store.project, deployment="fraud", version=2, spec=json.dumps(body),
                actor="old-release", reason="", at=sa.func.current_timestamp(),
            )
        )  # fmt: skip
    reads: list[str] = []
    sa.event.listen(svc.store.engine, "before_cursor_execute", lambda *a: reads.append(a[2]))
    specs, invalid = many.currents(["credit", "fraud", "idle"])
    assert len(reads) == 1
    assert specs == {name: many.current(name) for name in ("credit", "idle")}
    assert specs["idle"].version == 0 and specs["credit"].strategy == "canary"
    with pytest.raises(InvalidRolloutError) as raised:
        many.current("fraud")
    assert list(invalid) == ["fraud"] and str(invalid["fraud"]) == str(raised.value)
    assert many.routing("credit", spec=specs["credit"]) == many.routing("credit")
    with pytest.raises(UnknownDeploymentError):
        many.currents(["credit", "nope"])


@pytest.mark.parametrize(
    ("request_", "error", "match"),
    [
        (
            {
                "strategy": "ab",
                "arms": [
                    {"name": "a", "model": "credit-default/1", "weight": 0.5},
                    {"name": "b", "model": "credit-default/3", "weight": 0.6},
                ],
            },
            ConfigError,
            r"arm weights must sum to 1; got a=0.5, b=0.6 \(sum 1.1\)",
        ),
        (
            {"strategy": "canary", "candidate": "credit-default@nope"},
            UnknownModelError,
            "has no alias 'nope'",
        ),
        (
            {"strategy": "single", "model": "credit-default/2"},
            GovernanceError,
            "four eyes: credit-default v2 .* cannot serve all of 'credit'",
        ),
        (
            {"strategy": "canary", "candidate": "credit-default/3", "stages": [5, 50, 25, 100]},
            ConfigError,
            r"stages must be strictly increasing; got \[5.0, 50.0, 25.0, 100.0\]",
        ),
        ({"strategy": "rainbow"}, ConfigError, "strategy must be one of"),
        (
            {"strategy": "single", "candidate": "credit-default/3"},
            ConfigError,
            "'candidate' does not apply to a single rollout",
        ),
        ({"strategy": "canary"}, ConfigError, "a canary rollout needs 'candidate'"),
        (
            {"strategy": "canary", "candidate": "credit-default/3", "gate": {"min_samples": 0}},
            ConfigError,
            "gate.min_samples must be an integer of at least 1",
        ),
    ],
)
def test_bad_input_is_one_clear_error(
    svc: RolloutService, request_: dict[str, object], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        svc.create("credit", request_, **_by(svc))
    assert svc.store.current("credit") is None  # nothing was stored
    written = svc.registry.audit.entries(subject="deployment/credit")
    # only a governance refusal leaves a trace (bad input is not a governance action)
    assert [e.action for e in written] == (
        ["governance.refused"] if error is GovernanceError else []
    )


def test_unknown_deployment_and_missing_rollout(svc: RolloutService) -> None:
    with pytest.raises(UnknownDeploymentError, match="No deployment 'fraud'; deployments: credit"):
        svc.status("fraud")
    with pytest.raises(ConfigError, match="has no rollout yet"):
        svc.rollback("credit", **_by(svc))
    with pytest.raises(ConfigError, match="cannot set 'live'"):
        svc.create("credit", {"strategy": "single"}, **_by(svc))
        svc.set("credit", {"live": "green"}, **_by(svc))


def test_an_active_rollout_is_replaced_only_on_purpose(svc: RolloutService) -> None:
    svc.create("credit", {"strategy": "canary", "candidate": "credit-default/3"}, **_by(svc))
    with pytest.raises(ConflictError, match="active canary rollout"):
        svc.create("credit", {"strategy": "single"}, **_by(svc))
    assert svc.create("credit", {"strategy": "single"}, replace=True, **_by(svc)).spec.version == 2


def test_stale_writes_conflict(svc: RolloutService) -> None:
    made = svc.create("credit", {"strategy": "canary", "candidate": "credit-default/3"}, **_by(svc))
    svc.set("credit", {"gate": {"min_samples": 50}}, **_by(svc))  # an operator, meanwhile
    with pytest.raises(ConflictError, match="at version 2, not 1"):
        svc.advance(
            "credit", principal=CONTROLLER, reason="gate passed",
            expected_version=made.spec.version,
        )  # fmt: skip
    assert svc.store.current("credit").stage == 0  # type: ignore[union-attr]


def test_build_spec_defaults_to_the_current_model() -> None:
    spec = build_spec("credit", {"strategy": "blue-green", "green": "m/2"}, base="m@champion")
    assert [(a.name, a.model) for a in spec.arms] == [("blue", "m@champion"), ("green", "m/2")]
    assert spec.seed.startswith("credit-blue-green-")


def test_roles_are_checked_and_refusals_audited(svc: RolloutService) -> None:
    viewer = Principal("vi", "viewer", via="token:tk_vi")
    with pytest.raises(AccessDeniedError, match=r"vi \(viewer\) may not create the rollout"):
        svc.create("credit", {"strategy": "canary", "candidate": "credit-default/3"},
                   principal=viewer)  # fmt: skip
    svc.create("credit", {"strategy": "canary", "candidate": "credit-default/3"}, **_by(svc))
    with pytest.raises(AccessDeniedError, match="needs the approver role"):
        svc.promote("credit", principal=_rollout.ANA)  # a deployer may not promote a rollout
    with pytest.raises(AccessDeniedError):
        svc.rollback("credit", principal=viewer)
    refused = svc.registry.audit.entries(action="governance.refused")
    assert [(e.actor, e.details["action"], e.subject) for e in refused] == [
        ("vi", "rollout.create", "deployment/credit"),
        ("ana", "rollout.promote", "deployment/credit"),
        ("vi", "rollout.rollback", "deployment/credit"),
    ]
    assert svc.store.current("credit").version == 1  # type: ignore[union-attr]
    assert svc.registry.audit.verify().ok


def test_a_champion_rule_refusal_is_audited(svc: RolloutService) -> None:
    with pytest.raises(
        GovernanceError, match="four eyes: credit-default v2 .* cannot serve all of 'credit'"
    ):
        svc.create("credit", {"strategy": "single", "model": "credit-default/2"}, **_by(svc))
    (refused,) = svc.registry.audit.entries(action="governance.refused")
    assert (refused.actor, refused.details["action"]) == ("ana", "rollout.create")
