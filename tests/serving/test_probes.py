"""/healthz, /readyz and /metrics (request counters and feature freshness gauges)."""

from __future__ import annotations

import re
from typing import Any

from cairn.core.errors import OnlineStoreError
from cairn.serving import create_app
from tests.serving._client import TestClient
from tests.serving.conftest import FEATURES, Project


def _reader(project: Project) -> Any:
    store = project.store

    def read(features: list[str], rows: list[dict[str, Any]], full: bool) -> dict[str, list[Any]]:
        return store.get_online_features(features, rows, full).to_dict()

    return read


def _gauge(text: str, name: str, view: str) -> float | None:
    match = re.search(rf'^{name}{{view="{view}"}} (\S+)$', text, re.MULTILINE)
    return float(match.group(1)) if match else None


def test_healthz() -> None:
    response = TestClient(create_app(_raising_reader)).get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_readyz_follows_the_online_store(project: Project) -> None:
    up = TestClient(create_app(_reader(project), ready=project.store.online.store.ping))
    assert (up.get("/readyz").status_code, up.get("/readyz").json()) == (200, {"status": "ready"})

    def down() -> None:
        raise OnlineStoreError("Cannot reach the online store at redis://127.0.0.1:1/0")

    response = TestClient(create_app(_reader(project), ready=down)).get("/readyz")
    assert response.status_code == 503
    assert response.json()["error"]["type"] == "not_ready"
    assert "redis://127.0.0.1:1/0" in response.json()["error"]["message"]


def test_readyz_without_a_probe_is_ready() -> None:
    assert TestClient(create_app(_raising_reader)).get("/readyz").status_code == 200


def test_metrics_freshness_and_request_counters(project: Project) -> None:
    online = project.store.online
    app = create_app(
        _reader(project), freshness=lambda: online.freshness(project.store._applied_views())
    )
    client = TestClient(app)
    client.post(
        "/v1/features/online", json={"features": FEATURES, "entities": [{"customer_id": 1}]}
    )
    client.post("/v1/features/online", json={"features": ["nope:x"], "entities": []})
    client.get("/no/such/route")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    for view in ("profile", "txn"):
        freshness = _gauge(text, "cairn_feature_freshness_seconds", view)
        age = _gauge(text, "cairn_feature_max_event_age_seconds", view)
        assert freshness is not None and age is not None, text
        assert 0 <= freshness < age  # the newest event is older than the watermark
    assert _gauge(text, "cairn_feature_max_event_age_seconds", "txn") is not None
    assert 'view="cold"' not in text  # applied but never materialized
    assert "cairn_feature_freshness_up 1.0" in text
    route = 'route="/v1/features/online"'
    assert f'cairn_http_requests_total{{method="POST",{route},status="200"}} 1.0' in text
    assert f'cairn_http_requests_total{{method="POST",{route},status="422"}} 1.0' in text
    assert 'cairn_http_requests_total{method="GET",route="unmatched",status="404"} 1.0' in text
    assert (
        f'cairn_http_request_duration_seconds_count{{method="POST",{route},status="200"}} 1.0'
        in text
    )


def test_each_app_has_its_own_registry() -> None:
    first, second = TestClient(create_app(_raising_reader)), TestClient(create_app(_raising_reader))
    first.get("/healthz")
    line = 'cairn_http_requests_total{method="GET",route="/healthz",status="200"} 1.0'
    assert line in first.get("/metrics").text
    assert line not in second.get("/metrics").text


def test_a_failing_freshness_probe_does_not_break_metrics() -> None:
    def broken() -> dict[str, dict[str, int | None]]:
        raise OnlineStoreError("metadata store down")

    response = TestClient(create_app(_raising_reader, freshness=broken)).get("/metrics")
    assert response.status_code == 200
    assert "cairn_feature_freshness_up 0.0" in response.text


def _raising_reader(
    features: list[str], rows: list[dict[str, Any]], full: bool
) -> dict[str, list[Any]]:
    raise AssertionError("not called")
