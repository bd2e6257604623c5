"""The serving test project with two registered versions: ``credit-default@champion`` (1) and
``credit-default@challenger`` (2)."""

from __future__ import annotations

from pathlib import Path

from cairn.app.feature_store import FeatureStore
from cairn.serving.routing import RolloutStore
from tests.serving._served import register_champion, register_version
from tests.serving.conftest import write_project

CHAMPION = "credit-default@champion"
CHALLENGER = "credit-default@challenger"


def rollout_project(path: Path, mlflow_template: Path) -> Path:
    """The project at ``path``: materialized features, champion v1 and challenger v2."""
    write_project(path)
    register_champion(path, mlflow_template, seed=20261126)
    assert register_version(path, seed=7, alias="challenger") == "2"
    return path


def rollout_store(path: Path) -> RolloutStore:
    """The project's rollout store (the one ``cairn serve`` polls)."""
    store = FeatureStore(path)
    return RolloutStore(store.metadata.engine, project=store.project)
