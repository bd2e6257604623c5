"""MlflowRegistry: versions, aliases and clear errors on a real MLflow registry."""

from __future__ import annotations

import pytest

from cairn.tracking import TrackingError, UnknownModelError
from tests.tracking._fixtures import Governed


def test_versions_aliases_and_tags(governed: Governed) -> None:
    first, second = governed.train(), governed.train()
    reg = governed.tracker.registry()
    assert [v.version for v in reg.versions("credit-default")] == ["1", "2"]
    v1 = reg.get_version("credit-default", 1)
    assert v1.run_id == first.run_id and v1.author == "ana"
    assert v1.tags["cairn.manifest_digest"] == first.manifest.digest
    reg.set_alias("credit-default", "challenger", "2")
    assert reg.get_model("credit-default").aliases == {"challenger": "2"}
    assert [v.aliases for v in reg.versions("credit-default")] == [[], ["challenger"]]
    by_alias = reg.version_by_alias("credit-default", "challenger")
    assert by_alias is not None and by_alias.run_id == second.run_id
    assert reg.version_by_alias("credit-default", "champion") is None
    reg.delete_alias("credit-default", "challenger")
    assert reg.get_model("credit-default").aliases == {}
    reg.set_version_tag("credit-default", 1, "note", "x")
    assert reg.get_version("credit-default", "1").tags["note"] == "x"
    assert [m.name for m in reg.list_models()] == ["credit-default"]


def test_unknown_model_and_version(governed: Governed) -> None:
    reg = governed.tracker.registry()
    with pytest.raises(UnknownModelError, match=r"No registered model 'nope'; .*none"):
        reg.get_model("nope")
    governed.train()
    with pytest.raises(UnknownModelError, match=r"has no version '7'; its versions are: 1"):
        reg.get_version("credit-default", 7)
    with pytest.raises(KeyError):  # UnknownModelError is a KeyError too
        reg.versions("other")
    with pytest.raises(TrackingError, match="set the alias"):
        reg.set_alias("credit-default", "champion", "9")
