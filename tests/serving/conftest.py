"""A tiny materialized project (a snapshot view and a windowed view) and a client over it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from cairn import Aggregation, Entity, FeatureStore, FeatureView, Field, FileSource
from cairn.app.server import build_app
from cairn.serving import ServingLimits
from tests.serving._client import TestClient

CUSTOMER = Entity(name="customer", join_keys=["customer_id"])
FEATURES = ["profile:income", "profile:segment", "txn:amount_sum_7d", "txn:amount_count_7d"]


@dataclass(frozen=True)
class Project:
    """A project folder, its store, and the materialization end (the watermark)."""

    path: Path
    store: FeatureStore
    end: datetime


def write_project(path: Path) -> Project:
    """Two views over customers 1-3, materialized up to the current second; a third view
    ``cold`` is applied but never materialized."""
    end = datetime.now(UTC).replace(microsecond=0)
    data = path / "data"
    data.mkdir(parents=True)
    (path / "cairn.yaml").write_text("project: serving\n")
    pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 3],
            "event_timestamp": [end - timedelta(hours=h) for h in (5, 3, 4, 4)],
            "income": [10.0, 20.0, 30.0, 40.0],
            "segment": ["a", "b", "c", "d"],
        }
    ).to_parquet(data / "profiles.parquet", index=False)
    pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "event_timestamp": [end - timedelta(hours=h) for h in (4, 2, 3)],
            "amount": [5.0, 7.0, 9.0],
        }
    ).to_parquet(data / "txns.parquet", index=False)
    profile = FeatureView(
        name="profile",
        entities=[CUSTOMER],
        source=FileSource(path="data/profiles.parquet"),
        schema=[Field(name="income", dtype="float64"), Field(name="segment", dtype="string")],
    )
    txn = FeatureView(
        name="txn",
        entities=[CUSTOMER],
        source=FileSource(path="data/txns.parquet"),
        aggregations=[Aggregation("amount", "sum", "7d"), Aggregation("amount", "count", "7d")],
    )
    cold = FeatureView(
        name="cold",
        entities=[CUSTOMER],
        source=FileSource(path="data/profiles.parquet"),
        schema=[Field(name="income", dtype="float64")],
    )
    store = FeatureStore(path)
    store.apply([profile, txn, cold])
    store.materialize_incremental(end, feature_views=["profile", "txn"])
    return Project(path, store, end)


@pytest.fixture(scope="package")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The tiny project, built once for the serving tests."""
    return write_project(tmp_path_factory.mktemp("serving"))


@pytest.fixture(scope="package")
def client(project: Project) -> Iterator[TestClient]:
    """A client of the app ``cairn serve`` builds for the project (small limits)."""
    app = build_app(project.path, limits=ServingLimits(max_entities=50, max_body_bytes=64_000))
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c
