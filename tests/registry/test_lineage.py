"""Lineage: model@alias -> version -> run -> manifest -> quality -> commit -> approvals."""

from __future__ import annotations

import json
import subprocess

import pytest
from typer.testing import CliRunner

from cairn.cli.main import app
from cairn.registry.lineage import build_lineage
from cairn.tracking import UnknownModelError
from tests.registry._principals import approver, deployer
from tests.tracking import _fixtures
from tests.tracking._fixtures import Governed

# the shared fixtures of tests/tracking/_fixtures.py (this folder's conftest is another's)
mlflow_template, project = _fixtures.mlflow_template, _fixtures.project
config, governed = _fixtures.config, _fixtures.governed

MODEL = "credit-default"


def champion(g: Governed) -> str:
    result = g.train(author="ana")
    assert result.version is not None
    g.registry.approve(
        MODEL,
        result.version,
        principal=approver("bo"),
        ticket="MRR-2026-0123",
        decision="approve",
        note="validated",
    )
    g.registry.promote(MODEL, result.version, principal=deployer("ana"), reason="MRR-2026-0123")
    return result.run_id


def test_lineage_is_complete(governed: Governed) -> None:
    run_id = champion(governed)
    lineage = build_lineage(governed.registry, "credit-default@champion")
    assert lineage.complete, lineage.missing
    assert lineage.warnings == []
    assert lineage.model["version"] == "1" and lineage.model["author"] == "ana"
    assert lineage.run is not None and lineage.run["run_id"] == run_id
    assert lineage.run["metrics"]["valid_auc"] > 0.5
    ts = lineage.training_set
    assert ts is not None and ts["feature_refs"] == _fixtures.FEATURES
    assert ts["feature_views"]["profile"]["definition_hash"]
    assert set(ts["sources"]) == {"profiles"} and len(ts["sources"]["profiles"]["sha256"]) == 64
    assert ts["entity"]["rows"] == 400 and ts["entity"]["start"] and ts["entity"]["end"]
    assert ts["digest"] == governed.tracker.get_run(run_id).tags["cairn.manifest_digest"]
    assert lineage.label == "defaulted"
    assert lineage.quality is not None and lineage.quality["passed"]
    head = subprocess.run(
        ["git", "-C", str(governed.root), "rev-parse", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert lineage.code == {"sha": head, "dirty": False, "changed": []}
    assert lineage.packages["lightgbm"]
    (approval,) = lineage.approvals
    assert approval["reviewer"] == "bo" and approval["decision"] == "approve"
    assert [m["alias"] for m in lineage.alias_history] == ["champion"]
    actions = [e["action"] for e in lineage.audit]
    assert actions == ["model.registered", "approval.recorded", "model.promoted"]
    assert lineage.policy["require_four_eyes"] is True
    # by version too, and JSON-ready
    assert build_lineage(governed.registry, "credit-default/1").model["version"] == "1"
    assert json.loads(lineage.to_json())["complete"] is True


def test_missing_links_and_warnings_are_reported(governed: Governed) -> None:
    (governed.root / "features.py").write_text("# changed, not committed\n")
    governed.train(author="ana")  # not approved, trained from a dirty tree
    lineage = build_lineage(governed.registry, "credit-default/1")
    assert not lineage.complete
    assert lineage.missing == ["approvals (no review decision on credit-default v1)"]
    assert any("dirty work tree" in w for w in lineage.warnings)


def test_unknown_model_or_alias(governed: Governed) -> None:
    with pytest.raises(UnknownModelError, match="No registered model 'credit-default'"):
        build_lineage(governed.registry, "credit-default@champion")
    governed.train()
    with pytest.raises(UnknownModelError, match="has no alias 'fallback'"):
        build_lineage(governed.registry, "credit-default@fallback")


def test_cli_lineage_tree_and_json(governed: Governed) -> None:
    run_id = champion(governed)
    runner = CliRunner()
    repo = ["--repo", str(governed.root)]
    tree = runner.invoke(app, ["lineage", "credit-default@champion", *repo])
    assert tree.exit_code == 0, tree.output
    for text in (
        run_id,
        "training set: 400 rows",
        "profile v1",
        "profiles: sha256",
        "quality: passed",
        "code: commit",
        "approve by bo (MRR-2026-0123, token:",
        "Lineage complete.",
    ):
        assert text in tree.output, text
    as_json = runner.invoke(app, ["lineage", "credit-default@champion", "--json", *repo])
    assert as_json.exit_code == 0 and json.loads(as_json.output)["run"]["run_id"] == run_id
    unknown = runner.invoke(app, ["lineage", "credit-default@fallback", *repo])
    assert unknown.exit_code == 2 and "has no alias 'fallback'" in unknown.output
    prediction = runner.invoke(app, ["lineage", "3fa85f64-5717", *repo])
    assert prediction.exit_code == 2
    # not a model reference and not a logged prediction id (prediction ids are traced from the
    # prediction log; see tests/app/test_quickstart.py)
    assert "or a logged prediction id; got '3fa85f64-5717'" in prediction.output
