"""Approvals under the four-eyes rule, with their audit entries."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cairn.auth import AccessDeniedError
from cairn.registry import (
    Approval,
    ApprovalStore,
    AuditLog,
    GovernanceError,
    RegistryInputError,
)
from tests.registry._principals import approver, deployer

Clock = Callable[[], datetime]


@pytest.fixture
def store(engine: Engine, project_name: str, clock: Clock) -> ApprovalStore:
    return ApprovalStore(engine, project_name, AuditLog(engine, project_name), now=clock)


def test_reject_then_approve_history(store: ApprovalStore) -> None:
    assert store.latest("credit", "3") is None and store.history("credit") == []
    rejected = store.record(
        "credit",
        "3",
        principal=approver("bo"),
        ticket="MRR-2026-0123",
        decision="reject",
        note="AUC drop on thin files",
        author="ana",
    )
    approved = store.record(
        "credit",
        "3",
        principal=approver("cy"),
        ticket="MRR-2026-0124",
        decision="approve",
        author="ana",
    )
    store.record(
        "credit",
        "4",
        principal=approver("bo"),
        ticket="MRR-2026-0200",
        decision="approve",
        author="ana",
    )
    assert rejected == Approval(
        "credit",
        "3",
        "bo",
        "MRR-2026-0123",
        "reject",
        "AUC drop on thin files",
        "ana",
        datetime(2026, 1, 1, tzinfo=UTC),
        1,
        "token:tk_bo",
    )
    assert approved.at == datetime(2026, 1, 2, tzinfo=UTC) and approved.note == ""
    assert store.latest("credit", "3") == approved
    assert store.history("credit", "3") == [rejected, approved]
    assert [a.version for a in store.history("credit")] == ["3", "3", "4"]
    assert store.history("other") == []


def test_each_decision_is_audited(store: ApprovalStore) -> None:
    store.record(
        "credit",
        "3",
        principal=approver("bo"),
        ticket="MRR-2026-0123",
        decision="approve",
        author="ana",
        note="ok",
    )
    [entry] = store.audit.entries()
    assert (entry.actor, entry.action, entry.subject) == ("bo", "approval.recorded", "credit/3")
    assert entry.details == {
        "model": "credit",
        "version": "3",
        "reviewer": "bo",
        "ticket": "MRR-2026-0123",
        "decision": "approve",
        "note": "ok",
        "author": "ana",
        "principal": {"name": "bo", "role": "approver", "via": "token:tk_bo"},
    }
    assert entry.at == store.latest("credit", "3").at  # type: ignore[union-attr]
    assert store.audit.verify().ok


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"reviewer": "ana"}, r"four eyes: the author of credit v3 \(ana\) cannot approve it"),
        ({"reviewer": " Ana "}, "four eyes"),
        ({"reviewer": "ana", "decision": "reject"}, "cannot reject it"),
        ({"decision": "approved"}, "must be 'approve' or 'reject'; got 'approved'"),
        ({"ticket": ""}, "needs a ticket matching"),
        ({"ticket": "mrr-2026-0123"}, "needs a ticket matching"),
        ({"ticket": "MRR-26-0123"}, "got 'MRR-26-0123'"),
        ({"reviewer": ""}, "needs a named reviewer"),
        ({"author": "  "}, "needs a named author"),
        ({"display": "dave"}, r"reviewer name 'dave' given for credit v3 is not the "),
    ],
)
def test_refusals_are_audited(store: ApprovalStore, kwargs: dict[str, str], message: str) -> None:
    args = {"ticket": "MRR-2026-0123", "decision": "approve", "author": "ana"}
    kwargs = dict(kwargs)  # shared by the sqlite and postgres runs
    who = approver(kwargs.pop("reviewer", "bo"))
    display = kwargs.pop("display", None)
    with pytest.raises(GovernanceError, match=message) as info:
        store.record("credit", "3", principal=who, reviewer=display, **{**args, **kwargs})
    assert isinstance(info.value, PermissionError)
    assert store.history("credit") == []
    [entry] = store.audit.entries()
    assert (entry.action, entry.actor, entry.subject) == (
        "governance.refused",
        who.name or "unknown",
        "credit/3",
    )
    assert entry.details["reason"] == str(info.value) and info.value.audit_seq == entry.seq
    assert entry.details["principal"] == who.to_dict()
    assert store.audit.verify().ok


def test_a_role_below_approver_is_refused_and_audited(store: ApprovalStore) -> None:
    with pytest.raises(AccessDeniedError, match=r"bo \(deployer\) may not approve credit v3"):
        store.record(
            "credit", "3", principal=deployer("bo"), ticket="MRR-2026-0123",
            decision="approve", author="ana",
        )  # fmt: skip
    [entry] = store.audit.entries(action="governance.refused")
    assert (
        entry.details["action"] == "approve"
        and "needs the approver role" in (entry.details["reason"])
    )
    # the author is told the four-eyes rule, whatever their role
    with pytest.raises(GovernanceError, match="four eyes"):
        store.record(
            "credit", "3", principal=deployer("ana"), ticket="MRR-2026-0123",
            decision="approve", author="ana",
        )  # fmt: skip
    assert len(store.audit.entries(action="governance.refused")) == 2
    assert store.history("credit") == [] and store.audit.verify().ok


def test_the_reviewer_display_name_must_be_the_principal(store: ApprovalStore) -> None:
    done = store.record(
        "credit", "3", principal=approver("bo"), reviewer=" BO ", ticket="MRR-2026-0123",
        decision="approve", author="ana",
    )  # fmt: skip
    assert done.reviewer == "bo" and done.via == "token:tk_bo"


def test_version_label_and_bad_names(store: ApprovalStore) -> None:
    with pytest.raises(GovernanceError, match=r"author of credit rc-1 \(ana\)"):
        store.record(
            "credit",
            "rc-1",
            principal=approver("ana"),
            ticket="MRR-2026-0123",
            decision="approve",
            author="ana",
        )
    with pytest.raises(RegistryInputError, match="needs model as a non-empty string"):
        store.record(
            "",
            "3",
            principal=approver("bo"),
            ticket="MRR-2026-0123",
            decision="approve",
            author="ana",
        )


def test_configurable_ticket_pattern(engine: Engine, project_name: str) -> None:
    audit = AuditLog(engine, project_name)
    store = ApprovalStore(engine, project_name, audit, ticket_pattern=r"^JIRA-\d+$")
    assert (
        store.record(
            "m", "1", principal=approver("bo"), ticket="JIRA-42", decision="approve", author="ana"
        ).ticket
        == "JIRA-42"
    )
    with pytest.raises(GovernanceError, match=r"matching \^JIRA-"):
        store.record(
            "m",
            "1",
            principal=approver("bo"),
            ticket="MRR-2026-0123",
            decision="approve",
            author="ana",
        )
    with pytest.raises(RegistryInputError, match="ticket_pattern must be a regular expression"):
        ApprovalStore(engine, project_name, audit, ticket_pattern="(")


def test_the_audit_log_must_be_the_same_project_and_database(
    engine: Engine, project_name: str
) -> None:
    with pytest.raises(RegistryInputError, match="needs that project's AuditLog"):
        ApprovalStore(engine, project_name, AuditLog(engine, "other"))
    elsewhere = sa.create_engine("sqlite://")
    with pytest.raises(RegistryInputError, match="on the same database"):
        ApprovalStore(engine, project_name, AuditLog(elsewhere, project_name))


def test_a_failed_audit_append_leaves_no_approval(
    engine: Engine, project_name: str, store: ApprovalStore
) -> None:
    """The record and its audit entry commit together: a tampered chain refuses both."""
    store.record(
        "credit",
        "3",
        principal=approver("bo"),
        ticket="MRR-2026-0123",
        decision="reject",
        author="ana",
    )
    with engine.begin() as conn:
        conn.execute(
            sa.text("DELETE FROM cairn_audit_head WHERE project = :p"), {"p": project_name}
        )
    with pytest.raises(Exception, match="chain head record is missing"):
        store.record(
            "credit",
            "3",
            principal=approver("bo"),
            ticket="MRR-2026-0124",
            decision="approve",
            author="ana",
        )
    assert [a.decision for a in store.history("credit")] == ["reject"]
