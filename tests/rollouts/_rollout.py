"""A governed credit project for rollout tests, built once per module and copied per test.

Versions of ``credit-default`` (author ``ana``): v1 champion (approved by ``bo``), v2 not
reviewed (the challenger), v3 approved but not champion. Deployment ``credit`` serves
``credit-default@champion``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from cairn import FeatureStore
from cairn.auth import Principal
from cairn.core.deployments import Deployment
from cairn.registry.models import ModelRegistry
from cairn.rollouts.service import RolloutService
from cairn.serving.routing import RolloutStore
from cairn.tracking import Tracker
from cairn.training import TrainConfig, train
from tests.tracking._fixtures import ENTITIES, FEATURES, definitions, git_commit, write_data

MODEL = "credit-default"
DEPLOYMENTS = {"credit": Deployment.from_dict("credit", {"model": f"{MODEL}@champion"})}
TICKET = "MRR-2026-0001"
ANA = Principal("ana", "deployer", via="token:tk_ana")  # the author
BO = Principal("bo", "approver", via="token:tk_bo")  # the reviewer
CARLA = Principal("carla", "approver", via="token:tk_carla")  # promotes rollouts


def config() -> TrainConfig:
    """A fast LightGBM config."""
    return TrainConfig.from_mapping(
        {
            "model_name": MODEL,
            "entities": ENTITIES,
            "label": "defaulted",
            "features": FEATURES,
            "model": {"num_boost_round": 10, "threads": 1, "params": {"num_leaves": 7}},
            "reference": {"sample": 50},
            "importance_sample": 100,
        },
        source="train.yaml",
    )


def build(root: Path, mlflow_template: Path, seed: int) -> Path:
    """The project with three versions (see the module docstring)."""
    root.mkdir(parents=True)
    (root / "cairn.yaml").write_text("project: credit\n")
    write_data(root, seed)
    git_commit(root)
    (root / ".cairn").mkdir()
    shutil.copy(mlflow_template, root / ".cairn" / "mlflow.db")
    store = FeatureStore(root)
    store.apply(definitions())  # type: ignore[arg-type]
    registry = open_registry(root)
    first = train(config(), store, registry.tracker, author="ana", audit=registry.audit)
    tags = {"cairn.author": "ana", "cairn.flavor": "lightgbm"}
    for _ in range(2):  # more versions of the same booster: registering is cheap, training not
        registry.mlflow.register(MODEL, first.model_uri, run_id=first.run_id, tags=tags)
    for version in ("1", "3"):
        registry.approve(MODEL, version, principal=BO, ticket=TICKET, decision="approve")
    registry.promote(MODEL, "1", principal=BO, reason=f"{TICKET}: approved")
    registry.promote(MODEL, "2", alias="challenger", principal=ANA, reason="challenger")
    return root


def copy(template: Path, dest: Path) -> Path:
    """A private copy of the built project (MLflow artifacts are read where they were built)."""
    shutil.copytree(template, dest)
    return dest


def open_registry(root: Path) -> ModelRegistry:
    """The project's governed registry."""
    store = FeatureStore(root)
    tracker = Tracker.for_project(store.settings.tracking, store.root, store.project)
    return ModelRegistry(tracker, store.metadata.engine, store.project)


def service(root: Path) -> RolloutService:
    """The rollout service over the project (deployment ``credit``)."""
    registry = open_registry(root)
    store = RolloutStore(registry.audit.engine, project=registry.project)
    return RolloutService(store, registry, DEPLOYMENTS)
