"""Approvals under the four-eyes rule, with their audit entries."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cairn.registry import (
    Approval,
    ApprovalStore,
    AuditLog,
    GovernanceError,
    RegistryInputError,
)

Clock = Callable[[], datetime]


@pytest.fixture
def store(engine: Engine, project_name: str, clock: Clock) -> ApprovalStore:
    return ApprovalStore(engine, project_name, AuditLog(engine, project_name), now=clock)


def test_reject_then_approve_history(store: ApprovalStore) -> None:
    assert store.latest("credit", "3") is None and store.history("credit") == []
    rejected = store.record(
        "credit",
        "3",
        reviewer="bo",
        ticket="MRR-2026-0123",
        decision="reject",
        note="AUC drop on thin files",
        author="ana",
    )
    approved = store.record(
        "credit", "3", reviewer="cy", ticket="MRR-2026-0124", decision="approve", author="ana"
    )
    store.record(
        "credit", "4", reviewer="bo", ticket="MRR-2026-0200", decision="approve", author="ana"
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
        reviewer="bo",
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
    ],
)
def test_refusals(store: ApprovalStore, kwargs: dict[str, str], message: str) -> None:
    args = {"reviewer": "bo", "ticket": "MRR-2026-0123", "decision": "approve", "author": "ana"}
    with pytest.raises(GovernanceError, match=message) as info:
        store.record("credit", "3", **{**args, **kwargs})
    assert isinstance(info.value, PermissionError)
    assert store.history("credit") == [] and store.audit.entries() == []


def test_version_label_and_bad_names(store: ApprovalStore) -> None:
    with pytest.raises(GovernanceError, match=r"author of credit rc-1 \(ana\)"):
        store.record(
            "credit",
            "rc-1",
            reviewer="ana",
            ticket="MRR-2026-0123",
            decision="approve",
            author="ana",
        )
    with pytest.raises(RegistryInputError, match="needs model as a non-empty string"):
        store.record(
            "", "3", reviewer="bo", ticket="MRR-2026-0123", decision="approve", author="ana"
        )


def test_configurable_ticket_pattern(engine: Engine, project_name: str) -> None:
    audit = AuditLog(engine, project_name)
    store = ApprovalStore(engine, project_name, audit, ticket_pattern=r"^JIRA-\d+$")
    assert (
        store.record(
            "m", "1", reviewer="bo", ticket="JIRA-42", decision="approve", author="ana"
        ).ticket
        == "JIRA-42"
    )
    with pytest.raises(GovernanceError, match=r"matching \^JIRA-"):
        store.record(
            "m", "1", reviewer="bo", ticket="MRR-2026-0123", decision="approve", author="ana"
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
        "credit", "3", reviewer="bo", ticket="MRR-2026-0123", decision="reject", author="ana"
    )
    with engine.begin() as conn:
        conn.execute(
            sa.text("DELETE FROM cairn_audit_head WHERE project = :p"), {"p": project_name}
        )
    with pytest.raises(Exception, match="chain head record is missing"):
        store.record(
            "credit", "3", reviewer="bo", ticket="MRR-2026-0124", decision="approve", author="ana"
        )
    assert [a.decision for a in store.history("credit")] == ["reject"]
