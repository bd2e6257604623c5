"""The scikit-learn family on the example project: the quickstart's HistGradientBoosting
challenger, trained through ``train()``, is served over the real HTTP app and its served scores
equal the offline ``predict`` (1e-9); its contributions add up to the margin."""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from cairn.app.model_loader import RegistryModelLoader
from cairn.app.project import Project
from cairn.app.server import build_app
from cairn.quickstart.example import create_example_project
from cairn.quickstart.training_demo import CHALLENGER, write_example_config
from cairn.serving.models import ScoringModel
from cairn.serving.scorer_sklearn import SklearnScorer
from cairn.training import TrainConfig, train
from cairn.training.estimators import SklearnModel
from cairn.training.frame import FeatureFrame
from tests.serving._client import TestClient
from tests.tracking._fixtures import mlflow_template

__all__ = ["mlflow_template"]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, mlflow_template: Path) -> tuple[Path, str]:
    """The example project with the challenger trained, registered and deployed alone."""
    project = create_example_project(tmp_path_factory.mktemp("skl") / "credit")
    (project.path / ".cairn").mkdir(exist_ok=True)
    shutil.copy(mlflow_template, project.path / ".cairn" / "mlflow.db")
    opened = Project.open(project.path)
    store = opened.features
    if not store.applied_views():
        store.apply(opened.definitions())
    store.materialize_incremental(datetime.now(UTC))
    config = TrainConfig.from_yaml(write_example_config(project.path))
    result = train(replace(config, model=CHALLENGER), store, opened.tracker, author="ana")
    assert result.version is not None and result.flavor == "sklearn"
    deployments = project.path / "deployments.yaml"
    text = deployments.read_text().replace(
        "credit-default@champion", f"credit-default/{result.version}"
    )
    deployments.write_text(text.replace("explain: positive", "explain: always"))
    return project.path, result.version


def test_served_scores_equal_the_offline_predict(served: tuple[Path, str]) -> None:
    path, version = served
    model = _load(path, version)
    scorer = model.booster
    assert isinstance(scorer, SklearnScorer) and scorer.method == "treeshap"
    apps = pd.read_parquet(path / "data" / "applications.parquet").head(40)
    entity_rows = [{"customer_id": int(c)} for c in apps["customer_id"]]
    rows = _feature_rows(path, model, apps)
    rows[0] = {**rows[0], "income": None}  # a missing value goes the learned way
    offline = SklearnModel(scorer.estimator, {})
    frame = FeatureFrame(model.features, model.categories)
    explained, decisions = 0, set()
    with TestClient(build_app(path)) as client:
        for entity, values in zip(entity_rows, rows, strict=True):
            body = {"entities": entity, "features": values}
            answer = client.post("/v1/predict/credit", json=body)
            assert answer.status_code == 200, answer.text
            got = answer.json()
            want = offline.predict(frame.transform(pd.DataFrame([values])))[0]
            assert abs(got["score"] - want) <= 1e-9
            assert got["model"]["version"] == version
            explained += bool(got["reason_codes"])
            decisions.add(got["decision"])
    assert decisions >= {"approve", "decline"}, decisions
    assert explained  # the declines carry reason codes, from the scorer's contributions


def test_contributions_add_up_to_the_margin(served: tuple[Path, str]) -> None:
    path, version = served
    model = _load(path, version)
    scorer = model.booster
    assert isinstance(scorer, SklearnScorer)
    apps = pd.read_parquet(path / "data" / "applications.parquet").head(200)
    X = model.matrix(_feature_rows(path, model, apps))
    assert np.isnan(X).any() and len(np.unique(X, axis=0)) > 100
    phi = scorer.contributions(X)
    assert np.abs(phi.sum(axis=1) - scorer.margin(X)).max() < 1e-9
    started = time.perf_counter()
    scorer.contributions(X)
    per_row = (time.perf_counter() - started) / len(X)
    print(json.dumps({"treeshap_ms_per_row": per_row * 1000}))


def _load(path: Path, version: str) -> ScoringModel:
    project = Project.open(path)
    return RegistryModelLoader(project.tracker, project.registry).load("credit-default", version)


def _feature_rows(path: Path, model: ScoringModel, apps: pd.DataFrame) -> list[dict[str, Any]]:
    """The model's feature values of the applications, as of their time (offline store)."""
    entities = apps[["customer_id", "event_timestamp"]]
    store = Project.open(path).features
    table = store.get_historical_features(entities, model.online_refs).to_df()
    table = table.reindex(columns=model.features)
    return [
        {n: (None if pd.isna(v) else v) for n, v in r.items()} for r in table.to_dict("records")
    ]
