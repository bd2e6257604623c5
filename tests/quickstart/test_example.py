"""The example credit project: files, schemas, determinism and the point-in-time traps."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import cairn
import cairn.features
from cairn.core.config import Settings
from cairn.core.errors import ConfigError
from cairn.features import Entity, FeatureView, FileSource
from cairn.features.aggregates import get_function
from cairn.quickstart.example import (
    FEATURE_REFS,
    FEATURES_PY,
    ExampleProject,
    create_example_project,
    entity_frame,
)
from cairn.quickstart.example._applications import load_credit_data

UTC_TS = pa.timestamp("us", tz="UTC")
N = 4454  # rows of modeldata::credit_data, all with a usable Status
PROFILE_ATTRIBUTES = (
    "seniority",
    "home",
    "age",
    "marital",
    "records",
    "job",
    "expenses",
    "income",
    "assets",
    "debt",
)


@pytest.fixture(scope="module")
def seed() -> int:
    return 7


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, seed: int) -> ExampleProject:
    return create_example_project(tmp_path_factory.mktemp("example") / "credit", seed=seed)


def _read(project: ExampleProject, name: str) -> pd.DataFrame:
    frame: pd.DataFrame = pd.read_parquet(project.path / "data" / f"{name}.parquet")
    return frame


def test_writes_the_project_files(project: ExampleProject) -> None:
    names = sorted(str(p.relative_to(project.path)) for p in project.path.rglob("*") if p.is_file())
    assert names == [
        ".gitignore",
        "README.md",
        "cairn.yaml",
        "data/applications.parquet",
        "data/profiles.parquet",
        "data/transactions.parquet",
        "deployments.yaml",
        "experiments.yaml",
        "features.py",
        "quality/applications.yaml",
        "quality/profiles.yaml",
        "quality/reference/applications.json",
        "quality/reference/transactions.json",
        "quality/transactions.yaml",
        "reason_codes.yaml",
        "train.yaml",
    ]
    assert all(p.is_file() for p in project.files)
    readme = (project.path / "README.md").read_text()
    assert "synthetic" in readme.lower() and "modeldata" in readme and "cairn apply" in readme


def test_cairn_yaml_is_project_only_so_defaults_apply(project: ExampleProject) -> None:
    text = (project.path / "cairn.yaml").read_text()
    assert "# metadata:" in text and "#   memory_limit:" in text
    settings = Settings.load(project.path, env={})
    assert settings.project == "credit"
    assert settings == Settings.from_mapping({"project": "credit"}, env={})


@pytest.mark.parametrize(
    ("name", "schema"),
    [
        (
            "applications",
            {
                "application_id": pa.string(),
                "customer_id": pa.int64(),
                "event_timestamp": UTC_TS,
                "amount": pa.float64(),
                "price": pa.float64(),
                "term_months": pa.int64(),
                "defaulted": pa.int64(),
                "label_observed_at": UTC_TS,
                "source_row": pa.int64(),
            },
        ),
        (
            "profiles",
            {
                "customer_id": pa.int64(),
                "event_timestamp": UTC_TS,
                "created_timestamp": UTC_TS,
                "seniority": pa.int64(),
                "home": pa.string(),
                "age": pa.int64(),
                "marital": pa.string(),
                "records": pa.string(),
                "job": pa.string(),
                "expenses": pa.int64(),
                "income": pa.float64(),
                "assets": pa.float64(),
                "debt": pa.float64(),
            },
        ),
        (
            "transactions",
            {
                "customer_id": pa.int64(),
                "transaction_id": pa.int64(),
                "event_timestamp": UTC_TS,
                "created_timestamp": UTC_TS,
                "amount": pa.float64(),
                "merchant_category": pa.string(),
                "is_cash_advance": pa.bool_(),
                "is_online": pa.bool_(),
                "cash_advance": pa.int64(),
                "late_night": pa.int64(),
            },
        ),
    ],
)
def test_data_files_have_the_documented_schema(
    project: ExampleProject, name: str, schema: dict[str, pa.DataType]
) -> None:
    actual = pq.read_schema(project.path / "data" / f"{name}.parquet")
    assert dict(zip(actual.names, actual.types, strict=True)) == schema


def test_row_counts(project: ExampleProject) -> None:
    assert project.customers == project.applications == N
    assert project.profile_rows == N + round(0.30 * N) + round(0.05 * N) + round(0.03 * N)
    assert 250_000 <= project.transactions <= 400_000
    assert len(_read(project, "transactions")) == project.transactions
    assert project.start.isoformat() >= "2025-01-01" and project.end.isoformat() < "2026-07-01"
    assert project.data_start < project.start and project.data_end > project.end


def test_same_seed_writes_identical_bytes(
    project: ExampleProject, tmp_path: Path, seed: int
) -> None:
    again = create_example_project(tmp_path / "again", seed=seed)
    other = create_example_project(tmp_path / "other", seed=seed + 1)
    for a, b in zip(project.files, again.files, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    assert project.files[-1].read_bytes() != other.files[-1].read_bytes()


def test_refuses_a_non_empty_folder_unless_forced(tmp_path: Path) -> None:
    folder = tmp_path / "busy"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match=r"busy.*not empty.*notes\.txt.*force=True"):
        create_example_project(folder)
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]
    create_example_project(folder, force=True)
    assert (folder / "notes.txt").read_text() == "mine"
    assert (folder / "data" / "applications.parquet").is_file()
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigError, match="is a file"):
        create_example_project(tmp_path / "file")


def test_applications_are_the_real_credit_data(project: ExampleProject) -> None:
    apps = _read(project, "applications")
    raw = load_credit_data().set_index("rownames").loc[apps["source_row"]]
    assert (apps["customer_id"] == 100_000 + apps["source_row"]).all()
    assert apps["defaulted"].tolist() == (raw["Status"] == "bad").astype(int).tolist()
    assert apps["amount"].tolist() == raw["Amount"].astype(float).tolist()
    assert apps["term_months"].tolist() == raw["Time"].tolist()
    assert apps["event_timestamp"].is_monotonic_increasing
    assert apps["application_id"].is_unique and apps["customer_id"].is_unique
    assert (apps["label_observed_at"] == apps["event_timestamp"] + pd.DateOffset(months=12)).all()


def _visible_profiles(project: ExampleProject) -> pd.DataFrame:
    """The latest profile row known at each application (event < t, created <= t)."""
    apps = _read(project, "applications")[["customer_id", "event_timestamp", "source_row"]]
    rows = _read(project, "profiles").merge(apps, on="customer_id", suffixes=("", "_app"))
    rows = rows[
        (rows["event_timestamp"] < rows["event_timestamp_app"])
        & (rows["created_timestamp"] <= rows["event_timestamp_app"])
    ]
    rows = rows.sort_values(["customer_id", "event_timestamp", "created_timestamp"])
    return rows.groupby("customer_id").tail(1).set_index("source_row").sort_index()


def test_point_in_time_profiles_reproduce_the_published_values(project: ExampleProject) -> None:
    visible = _visible_profiles(project)
    raw = load_credit_data().set_index("rownames")
    assert len(visible) == N
    for column in PROFILE_ATTRIBUTES:
        ours = visible[column].astype(object).where(visible[column].notna(), None)
        theirs = (
            raw[column.capitalize()].astype(object).where(raw[column.capitalize()].notna(), None)
        )
        assert ours.tolist() == theirs.loc[visible.index].tolist(), column


def test_late_profile_updates_land_after_the_application(project: ExampleProject) -> None:
    apps = _read(project, "applications").set_index("customer_id")["event_timestamp"]
    profiles = _read(project, "profiles")
    applied = profiles["customer_id"].map(apps)
    late = profiles[profiles["created_timestamp"] > applied]
    assert len(late) == round(0.03 * N)
    assert (late["event_timestamp"] < applied[late.index]).all()  # stamped before: a trap
    visible = _visible_profiles(project).set_index("customer_id")
    # Each late row is newer by event time than the visible one, which a naive join would pick.
    assert (
        late["event_timestamp"].to_numpy()
        > visible.loc[late["customer_id"], "event_timestamp"].to_numpy()
    ).all()
    on_time = profiles[
        (profiles["created_timestamp"] <= applied)
        & ~profiles.duplicated(["customer_id", "event_timestamp"])
    ]
    lag = on_time["created_timestamp"] - on_time["event_timestamp"]
    assert lag.min() >= pd.Timedelta(0) and lag.max() <= pd.Timedelta(days=3)


def test_corrections_share_the_event_time_and_land_later(project: ExampleProject) -> None:
    profiles = _read(project, "profiles")
    dupes = profiles[profiles.duplicated(["customer_id", "event_timestamp"], keep=False)]
    groups = dupes.groupby(["customer_id", "event_timestamp"])
    assert groups.ngroups == round(0.05 * N)
    first, fixed = groups.head(1).reset_index(drop=True), groups.tail(1).reset_index(drop=True)
    assert (fixed["created_timestamp"] > first["created_timestamp"]).all()
    assert np.allclose(first["income"], fixed["income"] * 10)


def test_transactions_surround_each_application(project: ExampleProject) -> None:
    txns = _read(project, "transactions")
    applied = txns["customer_id"].map(
        _read(project, "applications").set_index("customer_id")["event_timestamp"]
    )
    offset = txns["event_timestamp"] - applied
    assert offset.min() >= -pd.Timedelta(days=121) and offset.max() < pd.Timedelta(days=11)
    assert (offset >= pd.Timedelta(0)).sum() > 10_000  # rows that must not leak
    lag = txns["created_timestamp"] - txns["event_timestamp"]
    assert lag.min() >= pd.Timedelta(seconds=1) and lag.max() <= pd.Timedelta(hours=6)
    assert txns["transaction_id"].tolist() == list(range(1, len(txns) + 1))
    assert txns["event_timestamp"].is_monotonic_increasing
    assert (txns["amount"] > 0).all()
    cash = txns["is_cash_advance"]
    assert (txns.loc[cash, "merchant_category"] == "atm_cash").all()
    assert not txns.loc[cash, "is_online"].any()
    assert (txns["cash_advance"] == cash.astype("int64")).all()
    assert (txns["late_night"] == (txns["event_timestamp"].dt.hour < 6).astype("int64")).all()


def test_transactions_lean_mildly_towards_the_label(project: ExampleProject) -> None:
    txns = _read(project, "transactions").merge(
        _read(project, "applications")[["customer_id", "defaulted"]], on="customer_id"
    )
    by_label = txns.groupby("defaulted")[["cash_advance", "late_night", "amount"]].mean()
    per_customer = txns.groupby("defaulted")["customer_id"].agg(["size", "nunique"])
    rate = per_customer["size"] / per_customer["nunique"]
    assert 1.0 < rate[1] / rate[0] < 1.4
    ratio = (by_label.loc[1] / by_label.loc[0]).astype(float).to_dict()
    assert 1.1 < ratio["cash_advance"] < 2.0
    assert 1.1 < ratio["late_night"] < 2.0
    assert 1.0 < ratio["amount"] < 1.2


@pytest.fixture
def features_module(
    project: ExampleProject, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ModuleType]:
    # Until cairn/__init__.py re-exports the definitions, lend them so `from cairn import` works.
    for name in ("Aggregation", "Entity", "FeatureView", "Field", "FileSource"):
        if not hasattr(cairn, name):
            monkeypatch.setattr(cairn, name, getattr(cairn.features, name), raising=False)
    spec = importlib.util.spec_from_file_location("example_features", project.path / "features.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module


def test_features_py_defines_the_views(
    project: ExampleProject, features_module: ModuleType
) -> None:
    assert (project.path / "features.py").read_text() == FEATURES_PY
    assert "from cairn import" in FEATURES_PY
    found = vars(features_module).values()
    views = {v.name: v for v in found if isinstance(v, FeatureView)}
    assert sorted(views) == ["customer_profile", "txn_stats"]
    assert [e.name for e in found if isinstance(e, Entity)] == ["customer"]
    assert sorted(s.name for s in found if isinstance(s, FileSource)) == [
        "applications",
        "profiles",
        "transactions",
    ]
    refs = [f"{v.name}:{f}" for v in views.values() for f in v.feature_names]
    assert sorted(refs) == sorted(FEATURE_REFS) and len(FEATURE_REFS) == 21
    assert views["customer_profile"].ttl == "730d"
    assert views["txn_stats"].aggregations[0].name == "amount_sum_24h"


def test_feature_definitions_match_the_data(
    project: ExampleProject, features_module: ModuleType
) -> None:
    for view in (features_module.customer_profile, features_module.txn_stats):
        schema = pq.read_schema(view.source.resolve(project.path))
        types = dict(zip(schema.names, schema.types, strict=True))
        assert types[view.source.timestamp_field] == UTC_TS
        assert types[view.source.created_timestamp_column] == UTC_TS
        assert "customer_id" in types
        for field in view.schema:
            assert str(types[field.name]).replace("double", "float64") == field.dtype.value
        for agg in view.aggregations:
            kind = types[agg.column]
            assert not get_function(agg.function).numeric_only or (
                pa.types.is_integer(kind) or pa.types.is_floating(kind)
            ), agg.name


def test_entity_frame_keeps_the_file_order(project: ExampleProject) -> None:
    entities = entity_frame(project.path)
    apps = _read(project, "applications")
    assert list(entities.columns) == [
        "customer_id",
        "event_timestamp",
        "application_id",
        "defaulted",
    ]
    assert str(entities["event_timestamp"].dtype) == "datetime64[us, UTC]"
    assert entities["customer_id"].dtype == np.int64
    assert entities["application_id"].tolist() == apps["application_id"].tolist()
    assert entities["defaulted"].sum() == 1254
    assert entity_frame(project.path / "data" / "applications.parquet").equals(entities)
