"""Separation of duties: roles, min_approvals, approver != promoter, audited policy changes,
and every refusal in the chain; on SQLite and PostgreSQL (the registry's governance records in
``engine``, the versions in the project's MLflow)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from cairn.auth import AccessDeniedError, Principal
from cairn.registry import REFUSED_ACTION, ApprovalStore, AuditLog, GovernanceError
from cairn.registry.errors import RegistryInputError
from cairn.registry.models import ModelRegistry
from cairn.registry.promotion import (
    POLICY_ACTION,
    PROMOTED_ACTION,
    PromotionPolicy,
    check_promotable,
    policy_of,
)
from cairn.tracking import ModelVersionRecord
from tests.registry._principals import admin, approver, deployer, viewer
from tests.tracking import _fixtures
from tests.tracking._fixtures import Governed

mlflow_template, project = _fixtures.mlflow_template, _fixtures.project
config, governed = _fixtures.config, _fixtures.governed

MODEL = "credit-default"
TICKET = "MRR-2026-0123"


@pytest.fixture
def registry(governed: Governed, engine: Engine, project_name: str) -> ModelRegistry:
    """Two versions by ana; governance records on SQLite or PostgreSQL."""
    governed.train(author="ana")
    governed.train(author="ana")
    return ModelRegistry(governed.tracker, engine, project_name)


def review(
    registry: ModelRegistry, who: str, version: str = "1", decision: str = "approve"
) -> None:
    registry.approve(MODEL, version, principal=approver(who), ticket=TICKET, decision=decision)


def refusals(registry: ModelRegistry) -> list[tuple[str, str, str]]:
    return [
        (e.actor, e.details["action"], e.subject)
        for e in registry.audit.entries(action=REFUSED_ACTION)
    ]


def test_every_refusal_is_in_the_chain_before_the_error(registry: ModelRegistry) -> None:
    ana, bo = deployer("ana"), approver("bo")
    with pytest.raises(GovernanceError, match="has no approval") as no_approval:
        registry.promote(MODEL, "1", principal=ana, reason="ship")
    with pytest.raises(GovernanceError, match="four eyes: the author"):
        registry.approve(MODEL, "1", principal=approver("ana"), ticket=TICKET, decision="approve")
    with pytest.raises(AccessDeniedError, match=r"vi \(viewer\) may not move credit-default@"):
        registry.promote(MODEL, "1", principal=viewer("vi"), reason="x")
    with pytest.raises(AccessDeniedError, match="needs the approver role"):
        registry.approve(MODEL, "1", principal=deployer("cy"), ticket=TICKET, decision="approve")
    with pytest.raises(GovernanceError, match="is not the authenticated principal 'bo'"):
        registry.approve(
            MODEL, "1", principal=bo, reviewer="dave", ticket=TICKET, decision="approve"
        )
    with pytest.raises(AccessDeniedError, match="needs the admin role"):
        registry.set_policy(MODEL, principal=bo, reason="MRC-1", min_approvals=2)
    assert refusals(registry) == [
        ("ana", "promote", f"{MODEL}/1"),
        ("ana", "approve", f"{MODEL}/1"),
        ("vi", "promote", f"{MODEL}/1"),
        ("cy", "approve", f"{MODEL}/1"),
        ("bo", "approve", f"{MODEL}/1"),
        ("bo", "set_policy", MODEL),
    ]
    first = registry.audit.entries(action=REFUSED_ACTION)[0]
    assert no_approval.value.audit_seq == first.seq
    assert first.details == {
        "action": "promote",
        "reason": str(no_approval.value),
        "principal": {"name": "ana", "role": "deployer", "via": "token:tk_ana"},
    }
    assert registry.audit.verify().ok
    assert registry.approvals.history(MODEL) == [] and registry.aliases.history(MODEL) == []


def test_two_approvals_for_a_high_risk_model(registry: ModelRegistry) -> None:
    policy = registry.set_policy(
        MODEL, principal=admin("lead"), reason="MRC-2026-0009 high risk", min_approvals=2
    )
    assert (policy.min_approvals, policy.require_four_eyes, policy.changed_by) == (2, True, "lead")
    review(registry, "bo")
    review(registry, "bo")  # the same reviewer twice is one approver
    with pytest.raises(GovernanceError, match=r"needs 2 approvals .* it has 1 \(bo\)"):
        registry.promote(MODEL, "1", principal=deployer("ana"), reason="go")
    review(registry, "cy")
    review(registry, "dee", decision="reject")  # any rejection blocks
    with pytest.raises(GovernanceError, match="was rejected by dee"):
        registry.promote(MODEL, "1", principal=deployer("ana"), reason="go")
    review(registry, "dee")  # dee's latest decision counts
    done = registry.promote(MODEL, "1", principal=deployer("ana"), reason="go")
    assert [a.reviewer for a in done.approvals] == ["bo", "cy", "dee"]
    (entry,) = registry.audit.entries(action=PROMOTED_ACTION)
    assert [a["reviewer"] for a in entry.details["approvals"]] == ["bo", "cy", "dee"]
    assert entry.details["policy"]["min_approvals"] == 2
    assert entry.details["principal"]["name"] == "ana"
    assert [r[1] for r in refusals(registry)] == ["promote", "promote"]


def test_the_approver_may_not_be_the_promoter_when_the_policy_says_so(
    registry: ModelRegistry,
) -> None:
    review(registry, "bo")
    registry.set_policy(
        MODEL, principal=admin("lead"), reason="MRC-2026-0010", approver_not_promoter=True
    )
    with pytest.raises(GovernanceError, match="separation of duties: the policy of credit-def"):
        registry.promote(MODEL, "1", principal=approver("BO"), reason="mine")
    done = registry.promote(MODEL, "1", principal=deployer("cy"), reason="MRR ok")
    assert [m.alias for m in done.moves] == ["champion"]
    assert refusals(registry) == [("BO", "promote", f"{MODEL}/1")]
    # without the policy, the approver may promote
    registry.set_policy(
        MODEL, principal=admin("lead"), reason="MRC-2026-0011", approver_not_promoter=False
    )
    review(registry, "bo", version="2")
    assert registry.promote(MODEL, "2", principal=approver("bo"), reason="v2").moves


def test_policy_changes_are_admin_only_audited_and_complete(registry: ModelRegistry) -> None:
    assert registry.policy(MODEL) == PromotionPolicy()
    with pytest.raises(GovernanceError, match="needs a reason"):
        registry.set_policy(MODEL, principal=admin("lead"), reason=" ", require_four_eyes=False)
    with pytest.raises(AccessDeniedError, match=r"ana \(deployer\) may not change the promotion"):
        registry.set_policy(MODEL, principal=deployer("ana"), reason="mine", min_approvals=1)
    with pytest.raises(RegistryInputError, match="min_approvals as a whole number from 1"):
        registry.set_policy(MODEL, principal=admin("lead"), reason="x", min_approvals=0)
    assert [r[1] for r in refusals(registry)] == ["set_policy", "set_policy"]
    changed = registry.set_policy(MODEL, principal=admin("lead"), reason="MRC-1", min_approvals=3)
    kept = registry.set_policy(
        MODEL, principal=admin("lead"), reason="MRC-2", approver_not_promoter=True
    )
    assert changed.to_dict()["min_approvals"] == 3
    assert (kept.min_approvals, kept.approver_not_promoter, kept.require_four_eyes) == (
        3,
        True,
        True,
    )
    assert set(kept.to_dict()) >= {"require_four_eyes", "approver_not_promoter", "min_approvals"}
    last = registry.audit.entries(action=POLICY_ACTION)[-1]
    assert last.details["previous_approver_not_promoter"] is False
    assert last.details["principal"] == {"name": "lead", "role": "admin", "via": "token:tk_lead"}
    # an entry written before these fields existed: the defaults
    registry.audit.append("lead", POLICY_ACTION, MODEL, {"require_four_eyes": True, "reason": "r"})
    old = policy_of(registry.audit, MODEL)
    assert (old.min_approvals, old.approver_not_promoter) == (1, False)
    assert registry.audit.verify().ok


def test_a_waiver_is_admin_only_and_every_promotion_under_it_says_so(
    registry: ModelRegistry,
) -> None:
    registry.set_policy(
        MODEL, principal=admin("lead"), reason="MRC-2026-0007 sandbox", require_four_eyes=False
    )
    done = registry.promote(MODEL, "1", principal=deployer("ana"), reason="sandbox")
    assert "waived for credit-default by lead" in done.notes[0]
    (entry,) = registry.audit.entries(action=PROMOTED_ACTION)
    assert entry.details["four_eyes"] == "waived"


# -- the rule, as a property --------------------------------------------------------------


@dataclass
class _Registry:
    """What check_promotable reads: approvals and policy from a chain, an author."""

    audit: AuditLog
    approvals: ApprovalStore

    def author_of(self, mv: ModelVersionRecord) -> str:
        return "ana"


REVIEWERS = ["ana", "bo", "cy", "dee"]
decisions = st.lists(
    st.tuples(st.sampled_from(REVIEWERS), st.sampled_from(["approve", "reject"])), max_size=8
)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    decisions,
    st.integers(1, 3),
    st.booleans(),
    st.sampled_from(["bo", "cy", "eve"]),
)
def test_the_rule_is_latest_decision_per_reviewer(
    steps: list[tuple[str, str]], need: int, not_promoter: bool, promoter: str
) -> None:
    engine = sa.create_engine("sqlite://")
    audit = AuditLog(engine, "p")
    store = ApprovalStore(engine, "p", audit)
    fake = _Registry(audit, store)
    audit.append(
        "lead",
        POLICY_ACTION,
        MODEL,
        {"min_approvals": need, "approver_not_promoter": not_promoter, "reason": "r"},
    )
    for who, decision in steps:
        try:
            store.record(
                MODEL, "1", principal=approver(who), ticket=TICKET, decision=decision, author="ana"
            )
        except GovernanceError:
            assert who == "ana"  # only the author is ever refused
    mv = ModelVersionRecord(MODEL, "1", None, "", "READY", None, {}, [])
    check = check_promotable(
        fake,  # type: ignore[arg-type]
        mv,
        promoter=Principal(promoter, "deployer"),
    )
    latest = {who: d for who, d in steps if who != "ana"}
    approvers = {who for who, d in latest.items() if d == "approve"}
    counted = approvers - ({promoter} if not_promoter else set())
    if "reject" in latest.values():
        assert check.blocker == "rejected"
    elif len(counted) >= need:
        assert check.blocker is None and {a.reviewer for a in check.approvals} == counted
    else:
        assert check.blocker is not None
    assert audit.verify().ok
