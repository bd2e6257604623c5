"""The predict fast lane answers exactly what the FastAPI routes answer (status, headers, body),
counts its requests under the route template, and leaves every other request to the app."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import lightgbm as lgb
import orjson
import pytest
from fastapi import FastAPI

from cairn.serving.predict_lane import lane_target
from cairn.serving.request import ServingLimits
from tests.serving._client import TestClient
from tests.serving._models import FakeLoader, scoring_model, train_booster
from tests.serving._predict_app import REF, predict_app, store_reader
from tests.serving.conftest import Project

_VARYING = ("prediction_id", "latency_ms", "request_ms")
"""Fields that differ between two answers to the same request."""


@pytest.fixture(scope="module")
def booster() -> lgb.Booster:
    return train_booster(20261207)


def _app(project: Project, booster: lgb.Booster, state: Path, *, lane: bool) -> FastAPI:
    state.mkdir()
    loader = FakeLoader({REF: {"1": scoring_model(booster)}})
    limits = ServingLimits(max_body_bytes=4096)
    app, _ = predict_app(state, store_reader(project.store), loader, limits=limits)
    if not lane:  # the routes alone, as before the lane existed
        app.user_middleware = [m for m in app.user_middleware if m.cls.__name__ != "PredictLane"]
    return app


@pytest.fixture
def clients(
    project: Project, booster: lgb.Booster, tmp_path: Path
) -> Iterator[tuple[TestClient, TestClient]]:
    fast = _app(project, booster, tmp_path / "lane", lane=True)
    routes = _app(project, booster, tmp_path / "routes", lane=False)
    with TestClient(fast) as a, TestClient(routes) as b:
        yield a, b


def _stable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: "*" if k in _VARYING else _stable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_stable(v) for v in value]
    return value


REQUESTS: list[tuple[str, str, bytes]] = [
    ("POST", "/v1/predict/credit", b'{"entities": {"customer_id": 1}}'),
    ("POST", "/v1/predict/credit", b'{"entities": {"customer_id": 999999}}'),
    ("POST", "/v1/predict/credit", b'{"entities": {"customer_id": 2}, "features": {"x": 1}}'),
    ("POST", "/v1/predict/credit/batch", b'{"rows": [{"entities": {"customer_id": 1}}]}'),
    ("POST", "/v1/predict/credit", b"{not json"),
    ("POST", "/v1/predict/credit", b'{"entities": {"customer_id": true}}'),
    ("POST", "/v1/predict/credit", b'{"entities": {"customer_id": 1}, "pad": "' + b"x" * 5000),
    ("POST", "/v1/predict/other", b'{"entities": {"customer_id": 1}}'),
    ("POST", "/v1/predict/credit/", b'{"entities": {"customer_id": 1}}'),
    ("POST", "/v1/predict/credit/extra", b'{"entities": {"customer_id": 1}}'),
    ("GET", "/v1/predict/credit", b""),
    ("PUT", "/v1/predict/credit/batch", b"{}"),
]


@pytest.mark.parametrize(("method", "path", "body"), REQUESTS)
def test_the_lane_answers_what_the_routes_answer(
    clients: tuple[TestClient, TestClient], method: str, path: str, body: bytes
) -> None:
    fast, routes = clients
    headers = {"content-type": "application/json"}
    a = fast.request(method, path, content=body, headers=headers, follow_redirects=False)
    b = routes.request(method, path, content=body, headers=headers, follow_redirects=False)
    assert a.status_code == b.status_code, (a.text, b.text)
    assert a.headers.get("content-type") == b.headers.get("content-type")
    assert a.headers.get("allow") == b.headers.get("allow")
    assert a.headers.get("location") == b.headers.get("location")
    if a.content or b.content:
        assert _stable(orjson.loads(a.content)) == _stable(orjson.loads(b.content))


def test_lane_requests_are_counted_under_the_route_template(
    clients: tuple[TestClient, TestClient],
) -> None:
    fast, _ = clients
    assert fast.post("/v1/predict/credit", json={"entities": {"customer_id": 1}}).status_code == 200
    assert fast.post("/v1/predict/other", json={"entities": {"customer_id": 1}}).status_code == 404
    batch = {"rows": [{"entities": {"customer_id": 1}}]}
    assert fast.post("/v1/predict/credit/batch", json=batch).status_code == 200
    text = fast.get("/metrics").text
    for route, status in (
        ("/v1/predict/{deployment}", 200),
        ("/v1/predict/{deployment}", 404),
        ("/v1/predict/{deployment}/batch", 200),
    ):
        line = f'cairn_http_requests_total{{method="POST",route="{route}",status="{status}"}} 1.0'
        assert line in text
    assert 'cairn_predictions_total{arm="main",decision=' in text


@pytest.mark.parametrize(
    ("scope", "target"),
    [
        ({"type": "http", "method": "POST", "path": "/v1/predict/credit"}, ("credit", False)),
        ({"type": "http", "method": "POST", "path": "/v1/predict/a b/batch"}, ("a b", True)),
        ({"type": "http", "method": "POST", "path": "/v1/predict/batch"}, ("batch", False)),
        ({"type": "http", "method": "POST", "path": "/v1/predict//batch"}, None),
        ({"type": "http", "method": "POST", "path": "/v1/predict/"}, None),
        ({"type": "http", "method": "POST", "path": "/v1/predictions"}, None),
        ({"type": "http", "method": "POST", "path": "/v1/predict/c", "root_path": "/x"}, None),
        ({"type": "websocket", "path": "/v1/predict/credit"}, None),
    ],
)
def test_lane_target(scope: dict[str, Any], target: tuple[str, bool] | None) -> None:
    assert lane_target(scope) == target
