"""Cairn's counterfactuals against dice-ml's (dev-only oracle) on 20 declines of a LightGBM
trained on the example project: every Cairn answer turns the decision, Cairn finds one at least
as often as dice-ml and changes no more features on average. The comparison is the benchmarks'
(``benchmarks/_counterfactual_dice.py``, imported as the benchmarks import their helpers)."""

from __future__ import annotations

import sys
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest

pytest.importorskip("dice_ml")

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
if str(BENCHMARKS) not in sys.path:
    sys.path.insert(0, str(BENCHMARKS))

from _counterfactual_dice import Target, compare_with_dice  # noqa: E402

from cairn.core.deployments import CounterfactualPolicy  # noqa: E402
from cairn.profiles.profile import ReferenceProfile  # noqa: E402
from cairn.serving.scorers import LightGBMScorer  # noqa: E402
from cairn.training.frame import FeatureFrame  # noqa: E402

pytestmark = pytest.mark.slow


def example_target(root: Path) -> tuple[Target, np.ndarray]:
    """A LightGBM (100 rounds) on the example project's training set, and its training rows."""
    from cairn.app.project import Project
    from cairn.quickstart.example import create_example_project
    from cairn.quickstart.training_demo import write_example_config
    from cairn.training import TrainConfig, build_training_set

    path = create_example_project(root).path
    project = Project.open(path)
    if not project.features.applied_views():
        project.features.apply(project.definitions())
    config = TrainConfig.from_yaml(write_example_config(path))
    data = build_training_set(config, project.features)
    frame = data.frame
    features = list(data.feature_columns)
    ff = FeatureFrame.fit(frame, features)
    X, y = ff.matrix(frame), frame[config.label].to_numpy(dtype=np.int64)
    cats = [features.index(c) for c in ff.categories]
    params = {"objective": "binary", "verbose": -1, "num_threads": 1, "seed": 0}
    booster = lgb.train(params, lgb.Dataset(X, y, categorical_feature=cats), 100)
    profile = ReferenceProfile.build(ff.transform(frame), categorical=set(ff.categories), seed=0)
    policy = CounterfactualPolicy(immutable=("age", "marital"), budget_ms=1000.0)
    categories = {k: list(v) for k, v in ff.categories.items()}
    return Target(LightGBMScorer(booster), features, categories, profile, 0.5, policy), X


def test_cairn_is_valid_finds_as_often_and_is_sparser_than_dice(tmp_path: Path) -> None:
    target, X = example_target(tmp_path / "credit")
    declines = X[~np.isnan(X).any(axis=1) & target.declined(X)][:20]
    cairn, same_rows, dice = compare_with_dice(target, declines, total_cfs=4, seed=0)
    assert same_rows is not None and dice is not None
    print(f"\n{cairn.line()}\n{dice.line()}")
    assert cairn.rows == dice.rows == 20
    assert cairn.validity == 1.0
    assert cairn.found >= dice.found
    assert cairn.sparsity <= dice.sparsity
