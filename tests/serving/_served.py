"""A served copy of the serving test project: a tiny LightGBM champion in its registry and a
``deployments.yaml``, plus helpers to run ``cairn serve`` against it."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

from cairn.app.feature_store import FeatureStore
from cairn.tracking import Tracker
from cairn.tracking.models import Column
from tests.serving._models import FEATURES, LEVELS, REFS, train_booster

DEPLOYMENTS = """\
deployments:
  credit:
    model: credit-default@champion
    threshold: 0.5
    explain: declines
    feature_budget_ms: 200
    fallback:
      defaults: {income: 25.0}
"""


def register_champion(path: Path, mlflow_template: Path, seed: int) -> None:
    """Log the tiny booster as Cairn's trainer would and point ``credit-default@champion`` at it."""
    (path / ".cairn").mkdir(exist_ok=True)
    shutil.copy(mlflow_template, path / ".cairn" / "mlflow.db")
    register_version(path, seed, "champion", run_name="tiny")
    (path / "deployments.yaml").write_text(DEPLOYMENTS)


def register_version(path: Path, seed: int, alias: str, *, run_name: str | None = None) -> str:
    """Log a tiny booster as the trainer would, register it, point ``alias`` at it; returns
    the new version."""
    store = FeatureStore(path)
    tracker = Tracker.for_project(store.settings.tracking, store.root, store.project)
    columns = [Column(f, "string" if f == "segment" else "double") for f in FEATURES]
    name = run_name or f"tiny-{alias}"
    with tracker.start_run(name=name, tags={"cairn.flavor": "lightgbm"}) as run:
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


def use_redis(path: Path, url: str, end: datetime) -> None:
    """Point the project's online store at ``url`` and materialize into it."""
    (path / "cairn.yaml").write_text(f"project: serving\nonline:\n  url: {url}\n")
    FeatureStore(path).materialize_incremental(end, feature_views=["profile", "txn"])
