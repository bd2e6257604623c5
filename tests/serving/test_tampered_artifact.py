"""A running server and a tampered artifact: the real app keeps serving the version it has
loaded, refuses to load the tampered one when the champion alias moves to it, and says so in
its log; requests never see an error."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from cairn.app.feature_store import FeatureStore
from cairn.app.server import build_app
from cairn.registry.audit import AuditLog
from cairn.tracking import Tracker
from cairn.tracking.artifact_digest import local_folder, version_sha256
from tests.serving._client import TestClient
from tests.serving._served import register_champion, register_version
from tests.serving.conftest import write_project
from tests.tracking._fixtures import mlflow_template

__all__ = ["mlflow_template"]

MODEL = "credit-default"


def record_registration(path: Path, version: str) -> str:
    """Append the ``model.registered`` entry the trainer appends (with the artifact's
    SHA-256) for ``version``; returns the digest."""
    store = FeatureStore(path)
    tracker = Tracker.for_project(store.settings.tracking, store.root, store.project)
    digest = version_sha256(tracker, MODEL, version)
    AuditLog(store.metadata.engine, store.project).append(
        "ana", "model.registered", f"{MODEL}/{version}", {"artifact_sha256": digest}
    )
    return digest


def artifact_file(path: Path, version: str) -> Path:
    """The stored booster file of ``version`` (the local artifact store)."""
    store = FeatureStore(path)
    tracker = Tracker.for_project(store.settings.tracking, store.root, store.project)
    uri = tracker.client.get_model_version_download_uri(MODEL, version)
    folder = local_folder(str(uri))
    assert folder is not None
    (found,) = folder.glob("*.lgb")
    return found


@pytest.fixture
def served(tmp_path: Path, mlflow_template: Path) -> Path:
    """The serving project: v1 champion and v2 challenger, both with recorded digests, and
    v2's artifact tampered on disk; the model poll runs every 0.1 s."""
    path = tmp_path / "served"
    write_project(path)
    (path / "cairn.yaml").write_text("project: serving\nserving:\n  model_poll_seconds: 0.1\n")
    register_champion(path, mlflow_template, seed=20261126)
    assert register_version(path, seed=7, alias="challenger") == "2"
    for version in ("1", "2"):
        record_registration(path, version)
    target = artifact_file(path, "2")
    target.write_bytes(target.read_bytes().replace(b"leaf_value=", b"leaf_value=1", 1))
    return path


def test_server_keeps_its_version_and_refuses_the_tampered_one(
    served: Path, caplog: pytest.LogCaptureFixture
) -> None:
    body = {"entities": {"customer_id": 1}}
    app = build_app(served)
    with caplog.at_level(logging.WARNING), TestClient(app, raise_server_exceptions=False) as c:
        first = c.post("/v1/predict/credit", json=body)
        assert first.status_code == 200, first.text
        assert first.json()["model"]["version"] == "1"
        store = FeatureStore(served)
        tracker = Tracker.for_project(store.settings.tracking, store.root, store.project)
        tracker.registry().set_alias(MODEL, "champion", "2")  # the alias moves to v2
        deadline = time.monotonic() + 30
        while "refusing to load it" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.05)
        for _ in range(5):
            answer = c.post("/v1/predict/credit", json=body)
            assert answer.status_code == 200, answer.text
            assert answer.json()["model"]["version"] == "1"
            assert answer.json()["score"] == first.json()["score"]
    refusals = [r.getMessage() for r in caplog.records if "refusing to load it" in r.getMessage()]
    assert refusals, caplog.text
    assert f"{MODEL}/2: the artifact's SHA-256 is " in refusals[0]
    assert "but the audit log recorded " in refusals[0]


def test_a_refusal_reaching_a_request_is_a_503_not_a_500() -> None:
    from cairn.core.errors import ArtifactTamperedError
    from cairn.serving.errors import classify

    assert classify(ArtifactTamperedError("credit-default/2: ...")) == (
        503,
        "model_artifact_refused",
    )
