"""The error envelope: Cairn errors, unknown routes, the online store down, and real bugs."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from cairn.core.errors import (
    CairnError,
    ConfigError,
    DataError,
    DefinitionError,
    DependencyMissingError,
    EntityDataFrameError,
    OnlineStoreError,
    SourceError,
    UnknownFeatureError,
)
from cairn.serving import create_app
from cairn.serving.errors import classify
from tests.serving._client import TestClient

BODY = {"features": ["v:f"], "entities": [{"customer_id": 1}]}


def _raising(exc: Exception) -> Any:
    def reader(features: list[str], rows: list[dict[str, Any]], full: bool) -> dict[str, list[Any]]:
        raise exc

    return reader


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (UnknownFeatureError("x"), (422, "unknown_feature")),
        (EntityDataFrameError("x"), (422, "invalid_entities")),
        (DataError("x"), (422, "invalid_request")),
        (DefinitionError("x"), (422, "invalid_request")),
        (SourceError("x"), (500, "source_error")),
        (OnlineStoreError("x"), (503, "online_store_unavailable")),
        (ConfigError("x"), (500, "config_error")),
        (DependencyMissingError("x"), (500, "dependency_missing")),
        (CairnError("x"), (500, "internal_error")),
    ],
)
def test_classify(error: CairnError, expected: tuple[int, str]) -> None:
    assert classify(error) == expected


def test_online_store_down_is_503_naming_the_url() -> None:
    url = "redis://127.0.0.1:6399/0"
    app = create_app(_raising(OnlineStoreError(f"Cannot reach the online store at {url}")))
    response = TestClient(app).post("/v1/features/online", json=BODY)
    assert response.status_code == 503
    assert response.json()["error"] == {
        "type": "online_store_unavailable",
        "message": f"Cannot reach the online store at {url}",
    }


def test_a_bug_is_a_logged_500_with_the_request_id(caplog: pytest.LogCaptureFixture) -> None:
    client = TestClient(
        create_app(_raising(ZeroDivisionError("boom"))), raise_server_exceptions=False
    )
    with caplog.at_level(logging.ERROR, logger="cairn.serving"):
        response = client.post(
            "/v1/features/online", json=BODY, headers={"X-Request-ID": "req-123"}
        )
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "req-123"
    error = response.json()["error"]
    assert error["type"] == "internal_error" and "req-123" in error["message"]
    assert "boom" not in error["message"]
    assert any("req-123" in r.getMessage() and r.exc_info for r in caplog.records)
    generated = client.post("/v1/features/online", json=BODY)
    assert len(generated.headers["x-request-id"]) == 32


def test_unknown_route_and_method_are_json() -> None:
    client = TestClient(create_app(_raising(AssertionError())))
    missing = client.get("/v1/nothing")
    assert missing.status_code == 404
    assert missing.json()["error"]["type"] == "not_found"
    assert "/v1/nothing" in missing.json()["error"]["message"]
    wrong = client.get("/v1/features/online")
    assert wrong.status_code == 405
    assert wrong.json()["error"]["type"] == "method_not_allowed"
