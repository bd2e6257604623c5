"""ModelRegistry: listings, references, reviews and alias bookkeeping on real MLflow."""

from __future__ import annotations

import pytest

from cairn.registry import GovernanceError, RegistryInputError
from cairn.registry.models import ModelRef
from cairn.tracking import UnknownModelError
from tests.registry._principals import approver, deployer, viewer
from tests.tracking import _fixtures
from tests.tracking._fixtures import Governed

# the shared fixtures of tests/tracking/_fixtures.py (this folder's conftest is another's)
mlflow_template, project = _fixtures.mlflow_template, _fixtures.project
config, governed = _fixtures.config, _fixtures.governed


def test_list_and_show(governed: Governed) -> None:
    governed.train(author="ana")
    governed.train(author="ana")
    (summary,) = governed.registry.list_models()
    assert (summary.name, summary.versions, summary.latest, summary.aliases) == (
        "credit-default",
        2,
        "2",
        {},
    )
    governed.registry.approve(
        "credit-default", "1", principal=approver("bo"), ticket="MRR-2026-0123", decision="approve"
    )
    details = governed.registry.show("credit-default")
    assert [v.version.version for v in details.versions] == ["1", "2"]
    first = details.versions[0].approval
    assert first is not None and first.reviewer == "bo" and first.author == "ana"
    assert details.versions[1].approval is None and details.history == []


def test_references_resolve(governed: Governed) -> None:
    governed.train()
    governed.registry.promote(
        "credit-default", "1", alias="challenger", principal=deployer("ana"), reason="try"
    )
    ref, mv = governed.registry.resolve("credit-default@challenger")
    assert ref == ModelRef("credit-default", alias="challenger") and mv.version == "1"
    assert governed.registry.resolve("credit-default/1")[1].run_id == mv.run_id
    assert str(ModelRef.parse("credit-default/1")) == "credit-default/1"


@pytest.mark.parametrize("text", ["credit-default", "a@b@c", "x/1/2", "", "m/v1"])
def test_malformed_references(text: str) -> None:
    with pytest.raises(RegistryInputError, match="must be MODEL@ALIAS .* or MODEL/VERSION"):
        ModelRef.parse(text)


def test_unknown_model_version_and_alias(governed: Governed) -> None:
    with pytest.raises(UnknownModelError, match="No registered model 'credit-default'"):
        governed.registry.resolve("credit-default@champion")
    governed.train()
    with pytest.raises(UnknownModelError, match=r"has no alias 'champion'; its aliases: none"):
        governed.registry.resolve("credit-default@champion")
    with pytest.raises(UnknownModelError, match=r"has no version '5'; its versions are: 1"):
        governed.registry.resolve("credit-default/5")
    with pytest.raises(UnknownModelError, match="No registered model 'other'"):
        governed.registry.approve(
            "other", "1", principal=approver("bo"), ticket="MRR-2026-0123", decision="approve"
        )
    with pytest.raises(UnknownModelError, match="has no version '9'"):
        governed.registry.approve(
            "credit-default",
            "9",
            principal=approver("bo"),
            ticket="MRR-2026-0123",
            decision="approve",
        )


def test_approving_your_own_version_is_refused(governed: Governed) -> None:
    governed.train(author="ana")
    with pytest.raises(
        GovernanceError,
        match=r"four eyes: the author of credit-default v1 "
        r"\(ana\) cannot approve it",
    ):
        governed.registry.approve(
            "credit-default",
            "1",
            principal=approver("ana"),
            ticket="MRR-2026-0123",
            decision="approve",
        )
    assert governed.registry.approvals.history("credit-default") == []
    (refused,) = governed.registry.audit.entries(action="governance.refused")
    assert (refused.actor, refused.subject) == ("ana", "credit-default/1")
    assert refused.details["action"] == "approve"
    assert "four eyes" in refused.details["reason"] and governed.registry.audit.verify().ok


def test_the_approval_records_who_the_author_was(governed: Governed) -> None:
    governed.train(author="ana")
    done = governed.registry.approve(
        "credit-default", "1", principal=approver("bo"), reviewer="bo", ticket="MRR-2026-0123",
        decision="approve",
    )  # fmt: skip
    assert (done.reviewer, done.author, done.via) == ("bo", "ana", "token:tk_bo")
    (entry,) = governed.registry.audit.entries(action="approval.recorded")
    # no authenticated-author tag on the version: recorded as such, names still compared
    assert entry.details["author_authenticated"] is False
    with pytest.raises(GovernanceError, match="reviewer name 'alice' given for credit-default"):
        governed.registry.approve(
            "credit-default", "1", principal=approver("bo"), reviewer="alice",
            ticket="MRR-2026-0123", decision="approve",
        )  # fmt: skip
    assert governed.registry.audit.entries(action="governance.refused")[-1].actor == "bo"


def test_remove_alias_and_drift(governed: Governed) -> None:
    governed.train()
    registry = governed.registry
    registry.promote(
        "credit-default", "1", alias="challenger-hgb", principal=deployer("ana"), reason="shadow"
    )
    move = registry.remove_alias(
        "credit-default", "challenger-hgb", principal=deployer("ana"), reason="done"
    )
    assert move.previous == "1" and move.version is None
    assert registry.mlflow.get_model("credit-default").aliases == {}
    with pytest.raises(UnknownModelError, match="has no alias 'challenger-hgb' to remove"):
        registry.remove_alias(
            "credit-default", "challenger-hgb", principal=deployer("ana"), reason="again"
        )
    with pytest.raises(GovernanceError, match="cannot be removed, only replaced"):
        registry.remove_alias("credit-default", "champion", principal=deployer("ana"), reason="x")
    with pytest.raises(PermissionError, match=r"cy \(viewer\) may not remove"):
        registry.remove_alias("credit-default", "fallback", principal=viewer("cy"), reason="x")
    refused = registry.audit.entries(action="governance.refused")
    assert [e.details["action"] for e in refused] == ["remove_alias", "remove_alias"]
    # an alias moved behind Cairn's back (e.g. in the MLflow UI) is reported
    registry.mlflow.set_alias("credit-default", "fallback", "1")
    (warning,) = registry.alias_drift("credit-default")
    assert "credit-default@fallback is v1 in MLflow but Cairn's alias history says vNone" in warning


def test_the_authenticated_author_tag_is_the_trainers() -> None:
    from cairn.registry import models
    from cairn.training import trainer

    assert models.AUTHOR_AUTHENTICATED_TAG == trainer.AUTHOR_AUTHENTICATED_TAG


def test_an_authenticated_author_is_recorded_with_the_approval(governed: Governed) -> None:
    from cairn.training import train

    train(governed.config, governed.store, governed.tracker, author="ana",
          author_via="token:tk_ana", audit=governed.registry.audit)  # fmt: skip
    mv = governed.registry.version("credit-default", "1")
    assert governed.registry.author_authenticated(mv)
    governed.registry.approve(
        "credit-default", "1", principal=approver("bo"), ticket="MRR-2026-0123",
        decision="approve",
    )  # fmt: skip
    (entry,) = governed.registry.audit.entries(action="approval.recorded")
    assert entry.details["author_authenticated"] is True and entry.details["author"] == "ana"
