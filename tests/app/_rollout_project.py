"""The serving test project with two registered versions: ``credit-default@champion`` (1) and
``credit-default@challenger`` (2)."""

from __future__ import annotations

from pathlib import Path

from cairn.app.feature_store import FeatureStore
from cairn.serving.routing import RolloutStore
from cairn.tracking import Tracker
from cairn.tracking.models import Column
from tests.serving._models import FEATURES, LEVELS, REFS, train_booster
from tests.serving._served import register_champion
from tests.serving.conftest import write_project

CHAMPION = "credit-default@champion"
CHALLENGER = "credit-default@challenger"


def register_version(path: Path, seed: int, alias: str) -> str:
    """Log a tiny booster as the trainer would, register it, point ``alias`` at it."""
    store = FeatureStore(path)
    tracker = Tracker.for_project(store.settings.tracking, store.root, store.project)
    columns = [Column(f, "string" if f == "segment" else "double") for f in FEATURES]
    with tracker.start_run(name=f"tiny-{alias}", tags={"cairn.flavor": "lightgbm"}) as run:
        logged = run.log_lightgbm(
            train_booster(seed), columns=columns, pip_requirements=["lightgbm"]
        )
        run.log_json(
            {"features": FEATURES, "categories": {"segment": LEVELS}}, "feature_frame.json"
        )
        run.log_json({"features": [r for r in REFS if r]}, "train_config.json")
        run_id = run.run_id
    registry = tracker.registry()
    mv = registry.register(
        "credit-default",
        logged.uri,
        run_id=run_id,
        model_id=logged.model_id,
        tags={"cairn.flavor": "lightgbm"},
    )
    registry.set_alias("credit-default", alias, mv.version)
    return str(mv.version)


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
