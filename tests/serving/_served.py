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
    store = FeatureStore(path)
    tracker = Tracker.for_project(store.settings.tracking, store.root, store.project)
    booster = train_booster(seed)
    columns = [Column(f, "string" if f == "segment" else "double") for f in FEATURES]
    with tracker.start_run(name="tiny", tags={"cairn.flavor": "lightgbm"}) as run:
        logged = run.log_lightgbm(booster, columns=columns, pip_requirements=["lightgbm"])
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
    registry.set_alias("credit-default", "champion", mv.version)
    (path / "deployments.yaml").write_text(DEPLOYMENTS)


def use_redis(path: Path, url: str, end: datetime) -> None:
    """Point the project's online store at ``url`` and materialize into it."""
    (path / "cairn.yaml").write_text(f"project: serving\nonline:\n  url: {url}\n")
    FeatureStore(path).materialize_incremental(end, feature_views=["profile", "txn"])
