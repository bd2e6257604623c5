"""The training half of the quickstart on the real example project."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cairn.quickstart.example import create_example_project
from cairn.quickstart.printers import print_training_demo
from cairn.quickstart.training_demo import commit_project, run_training_demo, write_example_config
from cairn.training import TrainConfig
from tests.tracking._fixtures import git_commit


@pytest.mark.slow
def test_training_demo_trains_reviews_promotes_and_traces(
    tmp_path: Path,
    mlflow_template: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CAIRN_USER", "ana")
    project = create_example_project(tmp_path / "credit")
    (project.path / ".cairn").mkdir()
    shutil.copy(mlflow_template, project.path / ".cairn" / "mlflow.db")
    steps: list[str] = []
    demo = run_training_demo(project.path, on_step=steps.append)
    assert demo.champion.version == "1" and demo.challenger.version == "2"
    assert demo.champion.flavor == "lightgbm" and demo.challenger.flavor == "sklearn"
    assert demo.champion.manifest.row_count == 4454
    assert demo.champion.metrics["valid_auc"] > 0.75  # real credit data: ~0.83
    assert demo.approval.reviewer == "risk-officer" and demo.approval.author == "ana"
    # each governance step acted with a token; the author's self-approval was refused
    assert demo.team is not None and demo.approval.via == demo.team.officer.via
    assert demo.team.officer.via.startswith("token:tk_") and demo.team.author.role == "deployer"
    refused = demo.refused
    assert refused is not None and refused.action == "governance.refused"
    assert (refused.actor, refused.details["action"]) == ("ana", "approve")
    assert "four eyes" in refused.details["reason"]
    assert [e.action for e in demo.governance] == [
        "governance.refused",
        "approval.recorded",
        "alias.moved",
        "model.promoted",
        "alias.moved",
        "model.promoted",
    ]
    assert [m.alias for m in demo.promotion.moves] == ["champion"]
    assert [m.alias for m in demo.challenger_promotion.moves] == ["challenger"]
    lineage = demo.lineage
    # the demo made the example folder a git repository of its own: the lineage is complete
    assert lineage.complete and lineage.code is not None and not lineage.code["dirty"]
    assert lineage.training_set is not None and len(lineage.training_set["feature_refs"]) == 21
    assert len(steps) == 4 and demo.config_path == project.path / "train.yaml"
    assert TrainConfig.from_yaml(demo.config_path).model_name == "credit-default"
    print_training_demo(demo)
    out = capsys.readouterr().out
    for text in (
        "champion vs challenger",
        "risk-officer approved v1 (author ana)",
        "training set: 4,454 rows",
        "customer_profile v1",
        "approve by risk-officer",
        f"Refused: ana may not approve their own version v1 (four eyes; audit #{refused.seq} "
        "governance.refused)",
        "Audit log: governance actions",
    ):
        assert text in out, text


def test_write_example_config(tmp_path: Path) -> None:
    path = write_example_config(tmp_path)
    cfg = TrainConfig.from_yaml(path)
    assert cfg.label == "defaulted" and len(cfg.features) == 21 and cfg.register


def test_commit_project_never_touches_another_repository(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    git_commit(tmp_path)  # someone's repository
    inner = tmp_path / "quickstart"
    inner.mkdir()
    (inner / "b.txt").write_text("b")
    assert commit_project(inner) is None and commit_project(tmp_path) is None
    fresh = tmp_path.parent / f"{tmp_path.name}-fresh"
    fresh.mkdir()
    (fresh / "c.txt").write_text("c")
    sha = commit_project(fresh)
    assert sha is not None and len(sha) == 40
    assert commit_project(fresh) is None  # nothing changed
    (fresh / "c.txt").write_text("changed")
    assert commit_project(fresh) not in (None, sha)
