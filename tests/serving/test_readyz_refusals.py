"""``/readyz`` and ``/metrics`` report the model versions a server refused to load (a real
tampered artifact): 200 listing the refusal while the deployment serves its loaded version,
503 when a deployment has no model at all because of one; the refusal clears once the alias
points back at a loadable version."""

from __future__ import annotations

import re
import time
from pathlib import Path

from cairn.app.feature_store import FeatureStore
from cairn.app.server import build_app
from cairn.serving.refusals import Refusals, refused_rows
from cairn.tracking import Tracker
from tests.serving._client import TestClient
from tests.serving._served import register_champion, register_version
from tests.serving.conftest import write_project
from tests.serving.test_tampered_artifact import artifact_file, record_registration
from tests.tracking._fixtures import mlflow_template

__all__ = ["mlflow_template"]

MODEL = "credit-default"
BODY = {"entities": {"customer_id": 1}}


def _project(tmp_path: Path, mlflow_template: Path, tamper: str) -> Path:
    """v1 (champion) and v2 (challenger), digests recorded, ``tamper``'s artifact altered."""
    path = tmp_path / "served"
    write_project(path)
    (path / "cairn.yaml").write_text("project: serving\nserving:\n  model_poll_seconds: 0.1\n")
    register_champion(path, mlflow_template, seed=20261126)
    assert register_version(path, seed=7, alias="challenger") == "2"
    for version in ("1", "2"):
        record_registration(path, version)
    target = artifact_file(path, tamper)
    target.write_bytes(target.read_bytes().replace(b"leaf_value=", b"leaf_value=1", 1))
    return path


def _alias(path: Path, version: str) -> None:
    store = FeatureStore(path)
    tracker = Tracker.for_project(store.settings.tracking, store.root, store.project)
    tracker.registry().set_alias(MODEL, "champion", version)


def _until(client: TestClient, want: int) -> dict[str, object]:
    """Poll ``/readyz`` until it lists ``want`` refusals (the model poll runs every 0.1 s)."""
    deadline = time.monotonic() + 30
    while True:
        body: dict[str, object] = client.get("/readyz").json()
        refused = body.get("refused")
        assert isinstance(refused, list), body
        if len(refused) == want or time.monotonic() > deadline:
            return body
        time.sleep(0.05)


def _gauge(text: str) -> list[tuple[str, str, str, str]]:
    pattern = (
        r'^cairn_model_refused\{deployment="([^"]*)",model="([^"]*)",version="([^"]*)"\} (\S+)$'
    )
    return re.findall(pattern, text, re.MULTILINE)


def test_a_refused_version_is_listed_while_the_loaded_one_serves(
    tmp_path: Path, mlflow_template: Path
) -> None:
    path = _project(tmp_path, mlflow_template, tamper="2")
    with TestClient(build_app(path), raise_server_exceptions=False) as client:
        ready = client.get("/readyz")
        assert (ready.status_code, ready.json()) == (200, {"status": "ready", "refused": []})
        assert _gauge(client.get("/metrics").text) == []
        _alias(path, "2")  # the champion alias moves to the tampered version
        body = _until(client, 1)
        ready = client.get("/readyz")
        assert ready.status_code == 200 and body["status"] == "ready"
        (row,) = ready.json()["refused"]
        assert {k: row[k] for k in ("deployment", "ref", "model", "version", "serving")} == {
            "deployment": "credit",
            "ref": f"{MODEL}@champion",
            "model": MODEL,
            "version": "2",
            "serving": "1",
        }
        assert f"{MODEL}/2: the artifact's SHA-256 is " in row["reason"]
        assert "refusing to load it" in row["reason"]
        assert _gauge(client.get("/metrics").text) == [("credit", MODEL, "2", "1.0")]
        answer = client.post("/v1/predict/credit", json=BODY)
        assert answer.status_code == 200 and answer.json()["model"]["version"] == "1"
        _alias(path, "1")  # back to the loaded version: nothing is refused any more
        assert _until(client, 0)["refused"] == []
        assert _gauge(client.get("/metrics").text) == []


def test_a_deployment_without_a_model_because_of_a_refusal_is_not_ready(
    tmp_path: Path, mlflow_template: Path
) -> None:
    path = _project(tmp_path, mlflow_template, tamper="1")  # the champion itself is tampered
    with TestClient(build_app(path), raise_server_exceptions=False) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503
        body = ready.json()
        assert body["error"]["type"] == "not_ready"
        assert f"credit ({MODEL}@champion -> {MODEL}/1 refused)" in body["error"]["message"]
        (row,) = body["refused"]
        assert (row["deployment"], row["version"], row["serving"]) == ("credit", "1", None)
        assert _gauge(client.get("/metrics").text) == [("credit", MODEL, "1", "1.0")]
        answer = client.post("/v1/predict/credit", json=BODY)
        assert answer.status_code == 503 and answer.json()["error"]["type"] == "model_unavailable"


def test_refusals_are_per_reference_and_listed_per_deployment() -> None:
    book = Refusals()
    book.record("m@champion", "3", RuntimeError("x" * 900))
    book.record("m@challenger", "4", RuntimeError("broken"))
    book.clear("m@challenger")
    needs = {"b": ["m@champion"], "a": ["m@champion", "m@champion"], "c": ["other@champion"]}
    rows = refused_rows(book.current(), needs, {"m@champion": "2"})
    assert [(r["deployment"], r["version"], r["serving"]) for r in rows] == [
        ("a", "3", "2"),
        ("b", "3", "2"),
    ]
    assert rows[0]["reason"].startswith("RuntimeError: xxx") and len(rows[0]["reason"]) == 500


def test_the_openapi_schema_describes_the_refusals() -> None:
    from cairn.serving import create_app

    def reader(features: list[str], rows: list[dict[str, object]], full: bool) -> dict[str, list]:
        return {"found": [False] * len(rows)}

    schema = create_app(reader).openapi()["paths"]["/readyz"]["get"]["responses"]
    for code in ("200", "503"):
        body = schema[code]["content"]["application/json"]["schema"]
        assert body["properties"]["refused"]["items"]["required"][:4] == [
            "deployment", "ref", "model", "version"
        ], code  # fmt: skip
    assert "error" in schema["503"]["content"]["application/json"]["schema"]["required"]
