"""Promotion under governance: four eyes, rejected versions, fallback, history, policy, audit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from cairn.app.project import Project
from cairn.cli.main import app
from cairn.registry import GovernanceError, RegistryInputError
from cairn.registry.promotion import POLICY_ACTION, PROMOTED_ACTION
from tests.registry._principals import admin, approver, deployer
from tests.registry._tamper import sql
from tests.tracking import _fixtures
from tests.tracking._fixtures import Governed

# the shared fixtures of tests/tracking/_fixtures.py (this folder's conftest is another's)
mlflow_template, project = _fixtures.mlflow_template, _fixtures.project
config, governed = _fixtures.config, _fixtures.governed

MODEL = "credit-default"
TICKET = "MRR-2026-0123"


def approve(g: Governed, version: str, reviewer: str = "bo", decision: str = "approve") -> None:
    g.registry.approve(
        MODEL, version, principal=approver(reviewer), ticket=TICKET, decision=decision
    )


def test_promotion_is_refused_without_a_second_person(governed: Governed) -> None:
    governed.train(author="ana")
    with pytest.raises(
        GovernanceError,
        match=r"four eyes: credit-default v1 \(author ana\) has "
        r"no approval; someone other than ana must approve it first",
    ):
        governed.registry.promote(MODEL, "1", principal=deployer("ana"), reason="ship it")
    with pytest.raises(GovernanceError, match="cannot approve it"):
        approve(governed, "1", reviewer="ANA ")  # the author, whatever the case and spacing
    assert governed.registry.mlflow.get_model(MODEL).aliases == {}
    approve(governed, "1", reviewer="bo")
    done = governed.registry.promote(
        MODEL, "1", principal=deployer("ana"), reason=f"{TICKET} approved"
    )
    assert [(m.alias, m.version) for m in done.moves] == [("champion", "1")]
    assert done.approval is not None and done.approval.reviewer == "bo"
    assert governed.registry.mlflow.get_model(MODEL).aliases == {"champion": "1"}


def test_the_old_champion_becomes_fallback_and_history_answers_at_time_t(
    governed: Governed,
) -> None:
    for _ in range(3):
        governed.train(author="ana")
    registry = governed.registry
    approve(governed, "1")
    registry.promote(MODEL, "1", principal=deployer("ana"), reason="first")
    between = datetime.now(UTC)
    approve(governed, "2", reviewer="cy")
    done = registry.promote(MODEL, "2", principal=deployer("ana"), reason="better")
    assert [(m.alias, m.version, m.previous) for m in done.moves] == [
        ("fallback", "1", None),
        ("champion", "2", "1"),
    ]
    assert registry.mlflow.get_model(MODEL).aliases == {"champion": "2", "fallback": "1"}
    assert registry.aliases.at(MODEL, "champion", between) == "1"
    assert registry.aliases.at(MODEL, "champion", datetime.now(UTC)) == "2"
    assert registry.aliases.at(MODEL, "champion", between - timedelta(days=1)) is None
    moves = registry.aliases.history(MODEL)
    assert [(m.alias, m.version, m.actor) for m in moves] == [
        ("champion", "1", "ana"),
        ("fallback", "1", "ana"),
        ("champion", "2", "ana"),
    ]
    assert "previous champion, replaced by v2: better" == moves[1].reason
    # the same version again moves nothing and writes nothing
    before = len(registry.audit.entries())
    assert registry.promote(MODEL, "2", principal=deployer("ana"), reason="again").moves == []
    assert len(registry.audit.entries()) == before
    # challengers: any number, no approval needed
    registry.promote(
        MODEL, "3", alias="challenger-xgb", principal=deployer("ana"), reason="A/B arm"
    )
    assert registry.mlflow.get_model(MODEL).aliases["challenger-xgb"] == "3"
    actions = [e.action for e in registry.audit.entries()]
    assert actions.count(PROMOTED_ACTION) == 3 and actions.count("alias.moved") == 4
    assert registry.audit.verify().ok


def test_a_rejected_version_cannot_be_promoted(governed: Governed) -> None:
    governed.train(author="ana")
    approve(governed, "1", reviewer="bo", decision="approve")
    approve(governed, "1", reviewer="cy", decision="reject")  # the latest decision counts
    for alias in ("champion", "fallback", "challenger"):
        with pytest.raises(
            GovernanceError,
            match=r"credit-default v1 was rejected by cy "
            rf"\({TICKET}, .*cannot become {alias}",
        ):
            governed.registry.promote(
                MODEL, "1", alias=alias, principal=deployer("ana"), reason="please"
            )
    assert governed.registry.aliases.history(MODEL) == []


def test_bad_promotion_input(governed: Governed) -> None:
    governed.train(author="ana")
    approve(governed, "1")
    with pytest.raises(GovernanceError, match="needs a reason"):
        governed.registry.promote(MODEL, "1", principal=deployer("ana"), reason=" ")
    with pytest.raises(RegistryInputError, match="Alias 'prod' is not allowed"):
        governed.registry.promote(MODEL, "1", alias="prod", principal=deployer("ana"), reason="x")
    with pytest.raises(KeyError, match="has no version '4'"):
        governed.registry.promote(MODEL, "4", principal=deployer("ana"), reason="x")
    with pytest.raises(KeyError, match="No registered model 'nope'"):
        governed.registry.promote("nope", "1", principal=deployer("ana"), reason="x")


def test_the_policy_is_never_silently_off(governed: Governed) -> None:
    governed.train(author="ana")
    registry = governed.registry
    assert registry.policy(MODEL).require_four_eyes
    with pytest.raises(GovernanceError, match="needs a reason"):
        registry.set_policy(MODEL, require_four_eyes=False, principal=admin("lead"), reason="")
    waived = registry.set_policy(
        MODEL,
        require_four_eyes=False,
        principal=admin("lead"),
        reason="MRC-2026-0007 sandbox model",
    )
    assert not waived.require_four_eyes and waived.changed_by == "lead"
    done = registry.promote(MODEL, "1", principal=deployer("ana"), reason="sandbox")
    assert done.moves and "waived for credit-default by lead" in done.notes[0]
    (entry,) = registry.audit.entries(action=PROMOTED_ACTION)
    assert entry.details["four_eyes"] == "waived" and entry.details["approval"] is None
    assert entry.details["policy"]["reason"] == "MRC-2026-0007 sandbox model"
    (change,) = registry.audit.entries(action=POLICY_ACTION)
    assert change.actor == "lead" and change.details["previous_require_four_eyes"] is True
    registry.set_policy(
        MODEL, require_four_eyes=True, principal=admin("lead"), reason="back to normal"
    )
    assert registry.policy(MODEL).require_four_eyes


def test_tampering_with_a_promotion_is_detected(governed: Governed) -> None:
    governed.train(author="ana")
    approve(governed, "1")
    governed.registry.promote(MODEL, "1", principal=deployer("ana"), reason="ok")
    assert governed.registry.audit.verify().ok
    (entry,) = governed.registry.audit.entries(action=PROMOTED_ACTION)
    sql(
        governed.store.metadata.engine,
        "UPDATE cairn_audit_log SET actor = 'mallory' WHERE seq = :s",
        s=entry.seq,
    )
    result = governed.registry.audit.verify()
    assert not result.ok and f"entry {entry.seq} was edited" in result.problems[0]


def test_cli_approve_promote_alias_history_and_policy(
    governed: Governed, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI acts as the principal of a token; CAIRN_USER and --reviewer never decide who."""
    monkeypatch.setenv("CAIRN_USER", "bo")  # ignored: the token decides
    monkeypatch.delenv("CAIRN_TOKEN", raising=False)
    governed.train(author="ana")
    governed.train(author="ana")
    tokens = Project.open(governed.root).tokens
    _, root = tokens.create("lead", "admin")
    lead = Project.open(governed.root).authenticate(root)
    secrets = {"lead": root}
    for holder, role in (("ana", "deployer"), ("bo", "approver")):
        secrets[holder] = tokens.create(holder, role, created_by=lead)[1]  # type: ignore[arg-type]
    runner = CliRunner()
    repo = ["--repo", str(governed.root)]

    def run(who: str, *args: str) -> tuple[int, str]:
        out = runner.invoke(app, [*args, *repo], env={"CAIRN_TOKEN": secrets[who]})
        return out.exit_code, out.output

    code, out = run("ana", "models", "promote", MODEL, "1", "--reason", "go")
    assert code == 1 and "four eyes: credit-default v1 (author ana) has no approval" in out
    approve_1 = ("models", "approve", MODEL, "1", "--ticket", TICKET, "--decision", "approve")
    code, out = run("ana", *approve_1)
    assert code == 1 and "the author of credit-default v1 (ana) cannot approve it" in out
    code, out = run("bo", *approve_1, "--reviewer", "alice")  # a name typed is not who acted
    assert code == 1 and "reviewer name 'alice'" in out
    code, out = run("bo", *approve_1, "--reviewer", "bo", "--note", "fine")
    assert code == 0 and "bo approved credit-default v1 (author ana)" in out
    code, out = run(
        "bo", "models", "approve", MODEL, "2", "--ticket", TICKET, "--decision", "reject"
    )
    assert code == 0 and "bo rejected credit-default v2" in out
    code, out = run("ana", "models", "promote", MODEL, "1", "--reason", f"{TICKET} approved")
    assert code == 0 and "credit-default@champion: - -> v1" in out
    code, out = run("ana", "models", "alias", MODEL, "challenger", "2", "--reason", "try")
    assert code == 1 and "credit-default v2 was rejected by bo" in out
    code, out = run("ana", "models", "alias", MODEL, "challenger-b", "1", "--reason", "shadow")
    assert code == 0
    code, out = run("ana", "models", "alias", MODEL, "challenger-b", "--remove", "--reason", "done")
    assert code == 0 and "Removed credit-default@challenger-b (was v1)" in out
    code, out = run("ana", "models", "list")
    assert code == 0 and "champion -> v1" in out
    versions = governed.registry.show(MODEL).versions
    assert [v.version.aliases for v in versions] == [["champion"], []]
    code, out = run("ana", "models", "show", MODEL)
    assert code == 0 and "approve by bo (MRR-2026-0123)" in out and "reject by bo" in out
    code, out = run("ana", "models", "history", MODEL, "--alias", "champion")
    assert code == 0 and "MRR-2026-0123 approved" in out
    code, out = run("ana", "models", "history", MODEL, "--at", datetime.now(UTC).isoformat())
    assert code == 0 and "champion" in out and "v1" in out
    code, out = run("lead", "models", "policy", MODEL, "--no-four-eyes")
    assert code == 1 and "needs a reason" in out
    code, out = run("bo", "models", "policy", MODEL, "--min-approvals", "2", "--reason", "x")
    assert code == 1 and "needs the admin role" in out
    code, out = run("lead", "models", "policy", MODEL, "--min-approvals", "2", "--reason", "MRC")
    assert code == 0 and "2 approval(s)" in out
    code, out = run("ana", "models", "policy", MODEL)
    assert code == 0 and "four-eyes approval for champion required" in out
    code, out = run("ana", "models", "show", "nope")
    assert code == 2 and "No registered model 'nope'" in out
    refused = governed.registry.audit.entries(action="governance.refused")
    assert [(e.actor, e.details["action"]) for e in refused] == [
        ("ana", "promote"),
        ("ana", "approve"),
        ("bo", "approve"),
        ("ana", "promote"),
        ("lead", "set_policy"),
        ("bo", "set_policy"),
    ]
    code, out = run("ana", "audit", "verify")
    assert code == 0, out
