"""analyze_deployment / compare_deployment on a project's log, through Project (the CLI's path)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from cairn.app.project import Project
from cairn.experiments import (
    ChampionComparison,
    MetricCatalog,
    analyze_deployment,
    compare_deployment,
)
from cairn.rollouts import Arm, RolloutSpec
from tests.experiments._log import START, write_log

AS_OF = START + timedelta(days=40)


def _project(root: Path, **options: object) -> Project:
    (root / "cairn.yaml").write_text("project: demo\n")
    write_log(root, seed=21, **options)  # type: ignore[arg-type]
    return Project.open(root)


def _analyze(project: Project) -> object:
    return analyze_deployment(
        project.predictions,
        "credit",
        ["approval_rate"],
        catalog=MetricCatalog.load(project.root),
        splits=project.rollout_store,
        as_of=AS_OF,
    )


def test_the_rollout_history_supplies_the_ab_weights(tmp_path: Path) -> None:
    project = _project(tmp_path, units=400, seed_column="ab-seed")
    arms = [Arm("control", "m@champion", 0.5), Arm("treatment", "m@challenger", 0.5)]
    project.rollout_store.put(RolloutSpec.ab("credit", arms, "ab-seed"), actor="t", reason="ab")
    canary = RolloutSpec.canary("credit", "m@champion", "m@challenger", seed="later")
    project.rollout_store.put(canary, actor="t", reason="canary")  # current, another experiment
    result = _analyze(project)
    assert result.experiment == "ab-seed" and result.start > START  # type: ignore[attr-defined]
    assert result.srm is not None  # type: ignore[attr-defined]
    assert [a.weight for a in result.arms] == [0.5, 0.5]  # type: ignore[attr-defined]


def test_a_canary_is_not_checked_against_one_split(tmp_path: Path) -> None:
    project = _project(tmp_path, units=100, seed_column="c-seed")
    spec = RolloutSpec.canary("credit", "m@champion", "m@challenger", seed="c-seed")
    project.rollout_store.put(spec, actor="t", reason="c")
    result = _analyze(project)
    assert result.srm is None  # type: ignore[attr-defined]
    assert "changes by stage" in (result.srm_note or "")  # type: ignore[attr-defined]


def test_without_a_rollout_history_no_split_is_checked(tmp_path: Path) -> None:
    project = _project(tmp_path, units=100)
    result = analyze_deployment(
        project.predictions, "credit", ["approval_rate"],
        catalog=MetricCatalog.load(project.root), as_of=AS_OF,
    )  # fmt: skip
    assert result.srm is None and "no traffic weights" in (result.srm_note or "")


def test_an_empty_log_says_there_is_not_enough_data(tmp_path: Path) -> None:
    (tmp_path / "cairn.yaml").write_text("project: demo\n")
    project = Project.open(tmp_path)
    catalog = MetricCatalog.load(project.root)
    result = analyze_deployment(project.predictions, "credit", catalog=catalog, as_of=AS_OF)
    assert result.status == "not enough data" and "no predictions" in (result.reason or "")


def test_compare_reads_the_shadow_pairs_of_the_log(tmp_path: Path) -> None:
    project = _project(tmp_path, units=600)
    result = compare_deployment(
        project.predictions, "credit", catalog=MetricCatalog.load(project.root), as_of=AS_OF
    )
    assert result.pairs > 0 and result.deployment == "credit"


def test_compare_states_the_maturity_it_used_and_takes_an_override(tmp_path: Path) -> None:
    project = _project(tmp_path, units=400)
    catalog = MetricCatalog.load(project.root)

    def compare(**options: object) -> ChampionComparison:
        return compare_deployment(
            project.predictions, "credit", catalog=catalog, as_of=AS_OF,
            deployments=project.deployments(), **options,  # type: ignore[arg-type]
        )  # fmt: skip

    legacy = compare()  # a credit deployment declaring no label: default_rate's 90 days
    assert (legacy.maturity_text, legacy.labeled_pairs) == ("90d", 0)
    assert "default_rate's window, as in 0.1" in legacy.maturity_source
    given = compare(maturity=0)
    assert given.maturity == 0 and given.labeled_pairs > 0
    assert given.describe_maturity() == (
        "Labels count for requests at least 0s old (given with --maturity)."
    )
    (project.root / "deployments.yaml").write_text(
        "deployments:\n  credit:\n    model: credit-default@champion\n"
        "    label: {name: defaulted, maturity: 25d}\n"
    )
    declared = compare()
    assert declared.maturity_text == "25d" and declared.to_dict()["maturity_text"] == "25d"
    assert declared.maturity_source == "the label maturity of deployment credit"
    assert 0 < declared.labeled_pairs < given.labeled_pairs
    assert declared.decision.favorable_decision == "approve"
