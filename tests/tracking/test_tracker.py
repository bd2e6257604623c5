"""Tracker: runs, artifacts, datasets and URIs against a real MLflow SQLite store."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cairn.core.config import TrackingSettings
from cairn.core.manifest import TrainingSetManifest
from cairn.tracking import (
    DIGEST_CHARS,
    DIGEST_TAG,
    MissingArtifactError,
    Tracker,
    UnknownRunError,
    is_database_uri,
    resolve_uri,
)


@pytest.fixture
def tracker(project: Path) -> Tracker:
    return Tracker.for_project(TrackingSettings(), project, "credit")


def manifest() -> TrainingSetManifest:
    return TrainingSetManifest(
        project="credit",
        feature_refs=["profile:income"],
        feature_views={"profile": {"version": 1, "definition_hash": "d" * 64}},
        sources={"profiles": {"sha256": "a" * 64, "delta_version": None}},
        entity={"rows": 3, "sha256": "e" * 64},
        row_count=3,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def test_relative_sqlite_uri_resolves_in_the_project(tmp_path: Path) -> None:
    uri = resolve_uri("sqlite:///.cairn/mlflow.db", tmp_path)
    assert uri == f"sqlite:///{tmp_path}/.cairn/mlflow.db"
    assert (tmp_path / ".cairn").is_dir()
    assert resolve_uri("http://127.0.0.1:5000", tmp_path) == "http://127.0.0.1:5000"
    assert is_database_uri("postgresql+psycopg://u@h/db") and not is_database_uri("http://h")


def test_settings_default_to_the_project_experiment(tmp_path: Path) -> None:
    t = Tracker.for_project(TrackingSettings(experiment="", registry_uri=None), tmp_path, "p")
    assert t.experiment == "p" and t.registry_uri == t.uri
    t2 = Tracker.for_project(TrackingSettings(experiment="credit-exp"), tmp_path, "p")
    assert t2.experiment == "credit-exp"


def test_a_run_logs_params_metrics_tags_and_json(tracker: Tracker, project: Path) -> None:
    with tracker.start_run(name="try", tags={"cairn.author": "ana"}) as run:
        run.log_params({"lr": 0.1, "features": ["a", "b"], "skip": None})
        run.log_metrics({"auc": 0.8, "nan": float("nan")})
        run.log_json({"x": [1, 2]}, "dir/x.json")
    record = tracker.get_run(run.run_id)
    assert record.status == "FINISHED" and record.name == "try"
    assert record.params == {"lr": "0.1", "features": '["a", "b"]'}
    assert record.metrics == {"auc": 0.8}
    assert record.tags["cairn.author"] == "ana"
    assert tracker.load_json(run.run_id, "dir/x.json") == {"x": [1, 2]}
    # artifacts of a database-backed store live in the project, not in the working directory
    assert record.artifact_uri.startswith((project / ".cairn" / "mlartifacts").as_uri())


def test_a_failing_block_marks_the_run_failed(tracker: Tracker) -> None:
    with pytest.raises(RuntimeError), tracker.start_run(name="boom") as run:
        raise RuntimeError("boom")
    assert tracker.get_run(run.run_id).status == "FAILED"


def test_mlflow_global_state_is_restored_and_telemetry_is_off(tracker: Tracker) -> None:
    import mlflow

    mlflow.set_tracking_uri("sqlite:///elsewhere.db")
    with tracker.start_run() as run:
        assert mlflow.get_tracking_uri() == tracker.uri
    assert mlflow.get_tracking_uri() == "sqlite:///elsewhere.db"
    assert mlflow.active_run() is None and run.run_id
    mlflow.set_tracking_uri(None)  # type: ignore[arg-type]
    assert os.environ["MLFLOW_DISABLE_TELEMETRY"] == "true"
    assert os.environ["DO_NOT_TRACK"] == "true"


def test_the_dataset_input_carries_the_full_content_digest(tracker: Tracker) -> None:
    m = manifest()
    with tracker.start_run() as run:
        run.log_dataset(m)
    (ds,) = tracker.get_run(run.run_id).datasets
    # MLflow's digest column holds 36 characters: a 128-bit prefix, the full digest in a tag
    assert ds.digest == m.digest[:DIGEST_CHARS] and ds.context == "training"
    assert ds.tags[DIGEST_TAG] == m.digest and ds.source_type == "cairn_offline_store"
    assert m.digest in ds.source and "sha256:" + "a" * 64 in ds.source


def test_unknown_run_and_missing_artifact_are_clear_errors(tracker: Tracker) -> None:
    with pytest.raises(UnknownRunError, match="No run 'nope'"):
        tracker.get_run("nope")
    with tracker.start_run() as run:
        pass
    with pytest.raises(MissingArtifactError, match="no artifact 'quality.json'"):
        tracker.load_json(run.run_id, "quality.json")


def test_importing_cairn_does_not_import_mlflow() -> None:
    code = (
        "import sys, cairn, cairn.tracking, cairn.training, cairn.registry.models, "
        "cairn.cli.main; print(sorted(m for m in ('mlflow', 'lightgbm', 'sklearn') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
