"""ModelRegistry: listings, references, reviews and alias bookkeeping on real MLflow."""

from __future__ import annotations

import pytest

from cairn.registry import GovernanceError, RegistryInputError
from cairn.registry.models import ModelRef
from cairn.tracking import UnknownModelError
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
        "credit-default", "1", reviewer="bo", ticket="MRR-2026-0123", decision="approve"
    )
    details = governed.registry.show("credit-default")
    assert [v.version.version for v in details.versions] == ["1", "2"]
    first = details.versions[0].approval
    assert first is not None and first.reviewer == "bo" and first.author == "ana"
    assert details.versions[1].approval is None and details.history == []


def test_references_resolve(governed: Governed) -> None:
    governed.train()
    governed.registry.promote("credit-default", "1", alias="challenger", actor="ana", reason="try")
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
            "other", "1", reviewer="bo", ticket="MRR-2026-0123", decision="approve"
        )
    with pytest.raises(UnknownModelError, match="has no version '9'"):
        governed.registry.approve(
            "credit-default", "9", reviewer="bo", ticket="MRR-2026-0123", decision="approve"
        )


def test_approving_your_own_version_is_refused(governed: Governed) -> None:
    governed.train(author="ana")
    with pytest.raises(
        GovernanceError,
        match=r"four eyes: the author of credit-default v1 "
        r"\(ana\) cannot approve it",
    ):
        governed.registry.approve(
            "credit-default", "1", reviewer="ana", ticket="MRR-2026-0123", decision="approve"
        )
    assert governed.registry.approvals.history("credit-default") == []


def test_remove_alias_and_drift(governed: Governed) -> None:
    governed.train()
    registry = governed.registry
    registry.promote("credit-default", "1", alias="challenger-hgb", actor="ana", reason="shadow")
    move = registry.remove_alias("credit-default", "challenger-hgb", actor="ana", reason="done")
    assert move.previous == "1" and move.version is None
    assert registry.mlflow.get_model("credit-default").aliases == {}
    with pytest.raises(UnknownModelError, match="has no alias 'challenger-hgb' to remove"):
        registry.remove_alias("credit-default", "challenger-hgb", actor="ana", reason="again")
    with pytest.raises(GovernanceError, match="cannot be removed, only replaced"):
        registry.remove_alias("credit-default", "champion", actor="ana", reason="x")
    # an alias moved behind Cairn's back (e.g. in the MLflow UI) is reported
    registry.mlflow.set_alias("credit-default", "fallback", "1")
    (warning,) = registry.alias_drift("credit-default")
    assert "credit-default@fallback is v1 in MLflow but Cairn's alias history says vNone" in warning
