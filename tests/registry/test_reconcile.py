"""The index tables against the chain: a forged approval row is reported by reconcile and
refused by promote (it is no approval); deleted and edited rows are named; on SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine

from cairn.registry import REFUSED_ACTION, GovernanceError, reconcile
from cairn.registry.lineage import build_lineage
from cairn.registry.models import ModelRegistry
from tests.registry._principals import approver, deployer
from tests.registry._tamper import sql
from tests.tracking import _fixtures
from tests.tracking._fixtures import Governed

mlflow_template, project = _fixtures.mlflow_template, _fixtures.project
config, governed = _fixtures.config, _fixtures.governed

MODEL = "credit-default"
TICKET = "MRR-2026-0123"
FORGED = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def registry(governed: Governed, engine: Engine, project_name: str) -> ModelRegistry:
    """Version 1 by ana; governance records on SQLite or PostgreSQL."""
    governed.train(author="ana")
    return ModelRegistry(governed.tracker, engine, project_name)


def forge_approval(registry: ModelRegistry, reviewer: str = "mallory") -> None:
    sql(
        registry.audit.engine,
        "INSERT INTO cairn_approvals (project, model, version, reviewer, ticket, decision, note,"
        " author, at) VALUES (:p, :m, '1', :r, 'MRR-2026-0666', 'approve', '', 'ana', :at)",
        p=registry.project,
        m=MODEL,
        r=reviewer,
        at=FORGED,
    )


def test_a_forged_approval_row_is_reported_and_refused_by_promote(
    registry: ModelRegistry,
) -> None:
    assert reconcile(registry.audit) == []
    forge_approval(registry)
    (found,) = reconcile(registry.audit)
    assert (found.kind, found.table, found.seq) == ("row-without-entry", "cairn_approvals", None)
    assert "mallory approve" in found.message and "written outside Cairn" in str(found)
    with pytest.raises(GovernanceError, match=r"credit-default v1 \(author ana\) has no approval"):
        registry.promote(MODEL, "1", principal=deployer("ana"), reason="approved, see table")
    assert registry.mlflow.get_model(MODEL).aliases == {}
    (refused,) = registry.audit.entries(action=REFUSED_ACTION)
    assert refused.details["action"] == "promote"
    assert registry.audit.verify(reconcile=False).ok  # the chain itself is intact
    verdict = registry.audit.verify()  # `cairn audit verify` reconciles too
    assert not verdict.ok and any("mallory" in str(p) for p in verdict.problems)
    # nothing that displays approvals believes the row
    assert registry.approvals.history(MODEL) == []
    assert registry.show(MODEL).versions[0].approval is None
    lineage = build_lineage(registry, f"{MODEL}/1")
    assert lineage.approvals == [] and any("approvals" in m for m in lineage.missing)
    # a real approval still works; the forged row stays reported
    registry.approve(MODEL, "1", principal=approver("bo"), ticket=TICKET, decision="approve")
    done = registry.promote(MODEL, "1", principal=deployer("ana"), reason="MRR ok")
    assert done.approval is not None and done.approval.reviewer == "bo"
    assert [m.kind for m in reconcile(registry.audit)] == ["row-without-entry"]
    assert [a["reviewer"] for a in build_lineage(registry, f"{MODEL}@champion").approvals] == ["bo"]


def test_deleted_and_edited_rows_are_named(registry: ModelRegistry) -> None:
    registry.approve(MODEL, "1", principal=approver("bo"), ticket=TICKET, decision="approve")
    registry.approve(MODEL, "1", principal=approver("cy"), ticket=TICKET, decision="approve")
    registry.promote(MODEL, "1", principal=deployer("ana"), reason="MRR ok")
    engine, p = registry.audit.engine, registry.project
    sql(engine, "UPDATE cairn_approvals SET reviewer = 'mallory' WHERE project = :p AND "
        "reviewer = 'cy'", p=p)  # fmt: skip
    sql(engine, "DELETE FROM cairn_alias_moves WHERE project = :p", p=p)
    found = reconcile(registry.audit)
    kinds = [(m.kind, m.table) for m in found]
    assert kinds == [
        ("fields-differ", "cairn_approvals"),
        ("entry-without-row", "cairn_alias_moves"),
    ]
    edited = found[0]
    assert edited.fields == ("reviewer",) and "'mallory' (chain: 'cy')" in edited.message
    cy = registry.audit.entries(action="approval.recorded")[1]
    assert edited.seq == cy.seq
    # the chain, not the table, still decides
    assert [a.reviewer for a in registry.approvals.history(MODEL, "1")] == ["bo", "cy"]
    assert registry.aliases.current(MODEL, "champion") == "1"
    assert registry.audit.verify(reconcile=False).ok  # only the index was changed
    assert not registry.audit.verify().ok


def test_a_forged_alias_move_is_reported_and_ignored(registry: ModelRegistry) -> None:
    sql(
        registry.audit.engine,
        "INSERT INTO cairn_alias_moves (project, model, alias, version, previous, actor, reason,"
        " at) VALUES (:p, :m, 'champion', '1', NULL, 'mallory', 'forged', :at)",
        p=registry.project,
        m=MODEL,
        at=FORGED,
    )
    (found,) = reconcile(registry.audit)
    assert found.kind == "row-without-entry" and found.table == "cairn_alias_moves"
    assert registry.aliases.current(MODEL, "champion") is None
    assert registry.aliases.history(MODEL) == []
