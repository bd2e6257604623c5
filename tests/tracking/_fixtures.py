"""Fixtures for tracking, training and registry tests: a small credit project on a real MLflow.

MLflow builds its SQLite schema with ~80 Alembic migrations (5-8 s); each worker does that once
(``mlflow_template``) and every test copies the migrated, empty database into its own project,
so each test has a fresh, real tracking store in its ``tmp_path``.

Test modules import the fixtures they use from here.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
import uuid
from contextlib import closing
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cairn import Entity, FeatureStore, FeatureView, Field, FileSource
from cairn.registry.models import ModelRegistry
from cairn.tracking import Tracker
from cairn.training import ModelSpec, TrainConfig, TrainingResult, train

ROWS = 400
START = datetime(2025, 1, 1, tzinfo=UTC)
FEATURES = [
    "profile:income",
    "profile:debt",
    "profile:home",
    "profile:age",
]
ENTITIES = "SELECT customer_id, event_timestamp, defaulted FROM applications"


@pytest.fixture(scope="session")
def mlflow_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty MLflow SQLite database with its schema migrated.

    Built once per MLflow version and kept in the system temp folder across test sessions
    (written under a unique name, then renamed into place, so parallel workers never see a
    half-written file); a worker that finds none builds it.
    """
    cache = Path(tempfile.gettempdir()) / "cairn-test-cache"
    cache.mkdir(exist_ok=True)
    db = cache / f"mlflow-{version('mlflow')}-schema.db"
    if not db.is_file():
        folder = tmp_path_factory.mktemp("mlflow-template")
        fresh = folder / "mlflow.db"
        tracker = Tracker(f"sqlite:///{fresh}", experiment="template")
        tracker.call("create tables", tracker.client.search_experiments)
        partial = cache / f".{uuid.uuid4().hex}.db"
        with closing(sqlite3.connect(fresh)) as conn:
            conn.execute("VACUUM INTO ?", (str(partial),))  # one consistent file
        os.replace(partial, db)
    return db


def write_data(root: Path, seed: int, *, rows: int = ROWS) -> None:
    """applications.parquet (entity rows + label) and profiles.parquet (features), seeded."""
    rng = np.random.default_rng(seed)
    ids = np.arange(1, rows + 1, dtype=np.int64)
    applied = START + pd.to_timedelta(np.sort(rng.integers(0, 365 * 86400, rows)), unit="s")
    income = rng.lognormal(7, 0.5, rows).round()
    debt = rng.gamma(2, 300, rows).round()
    age = rng.integers(20, 70, rows)
    home = rng.choice(["owner", "rent", "parents"], rows)
    logit = -1.0 - 0.0008 * (income - 1100) + 0.002 * (debt - 600) + 0.8 * (home == "rent")
    defaulted = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(
        {"customer_id": ids, "event_timestamp": applied, "defaulted": defaulted}
    ).to_parquet(data / "applications.parquet", index=False)
    known = applied - timedelta(days=30)
    pd.DataFrame(
        {
            "customer_id": ids,
            "event_timestamp": known,
            "income": income,
            "debt": debt,
            "home": home,
            "age": age,
        }
    ).to_parquet(data / "profiles.parquet", index=False)


def definitions() -> list[object]:
    """The project's entity, sources and view."""
    customer = Entity(name="customer", join_keys=["customer_id"])
    applications = FileSource(name="applications", path="data/applications.parquet")
    profiles = FileSource(name="profiles", path="data/profiles.parquet")
    view = FeatureView(
        name="profile",
        entities=[customer],
        source=profiles,
        schema=[
            Field(name="income", dtype="float64"),
            Field(name="debt", dtype="float64"),
            Field(name="home", dtype="string"),
            Field(name="age", dtype="int64"),
        ],
    )
    return [customer, applications, view]


def git_commit(root: Path) -> None:
    """Make the project folder a git repository with one commit."""
    env = ["-c", "user.name=Test", "-c", "user.email=test@example.com"]
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / ".gitignore").write_text(".cairn/\n")
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(root), *env, "commit", "-q", "-m", "init"], check=True)


@pytest.fixture
def project(tmp_path: Path, mlflow_template: Path, global_random_seed: int) -> Path:
    """A small credit project (400 applications, 4 features), applied, in a git repository,
    with a fresh MLflow tracking store."""
    root = tmp_path / "credit"
    root.mkdir()
    (root / "cairn.yaml").write_text("project: credit\n")
    write_data(root, global_random_seed)
    git_commit(root)
    (root / ".cairn").mkdir()
    shutil.copy(mlflow_template, root / ".cairn" / "mlflow.db")
    FeatureStore(root).apply(definitions())  # type: ignore[arg-type]
    return root


@pytest.fixture
def config() -> TrainConfig:
    """A fast LightGBM config over the project's features."""
    return TrainConfig.from_mapping(
        {
            "model_name": "credit-default",
            "entities": ENTITIES,
            "label": "defaulted",
            "features": FEATURES,
            "model": {
                "num_boost_round": 15,
                "threads": 1,
                "params": {"num_leaves": 7, "min_data_in_leaf": 10},
            },
            "reference": {"sample": 50},
            "importance_sample": 100,
        },
        source="train.yaml",
    )


@dataclass
class Governed:
    """A project with its store, tracker and registry, and a way to train versions."""

    root: Path
    store: FeatureStore
    tracker: Tracker
    registry: ModelRegistry
    config: TrainConfig

    def train(self, author: str = "ana", **changes: object) -> TrainingResult:
        """Train and register one version (``changes`` replace config fields)."""
        cfg = replace(self.config, **changes) if changes else self.config  # type: ignore[arg-type]
        return train(cfg, self.store, self.tracker, author=author, audit=self.registry.audit)


@pytest.fixture
def governed(project: Path, config: TrainConfig) -> Governed:
    """The project opened: feature store, tracker and governed registry."""
    store = FeatureStore(project)
    tracker = Tracker.for_project(store.settings.tracking, store.root, store.project)
    registry = ModelRegistry(tracker, store.metadata.engine, store.project)
    return Governed(project, store, tracker, registry, config)


SKLEARN = ModelSpec(
    kind="sklearn",
    estimator="sklearn.ensemble.HistGradientBoostingClassifier",
    params={"max_iter": 15, "max_leaf_nodes": 7},
    threads=1,
)
