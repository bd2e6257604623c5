"""POST /v1/features/online over a real FeatureStore: values, and a 4xx for each bad input."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from cairn.serving import create_app
from tests.serving._client import TestClient
from tests.serving.conftest import FEATURES, Project

URL = "/v1/features/online"


def _error(response: Any, status: int, type_: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"} and body["error"]["type"] == type_, body
    message: str = body["error"]["message"]
    assert "\n" not in message
    return message


def test_values_equal_the_feature_store(client: TestClient, project: Project) -> None:
    rows = [{"customer_id": 1}, {"customer_id": 2}, {"customer_id": 99}]
    response = client.post(URL, json={"features": FEATURES, "entities": rows})
    assert response.status_code == 200, response.text
    body = response.json()
    expected = project.store.get_online_features(FEATURES, rows).to_dict()
    assert body["found"] == expected.pop("found") == [True, True, False]
    assert body["features"] == expected
    assert body["features"]["income"] == [20.0, 30.0, None]
    assert body["features"]["amount_sum_7d"] == [12.0, 9.0, 0]
    assert list(body["features"]) == [
        "customer_id",
        "income",
        "segment",
        "amount_sum_7d",
        "amount_count_7d",
    ]
    assert isinstance(body["latency_ms"], float) and body["latency_ms"] >= 0


def test_entities_as_an_object_of_arrays(client: TestClient) -> None:
    as_rows = client.post(
        URL, json={"features": FEATURES, "entities": [{"customer_id": 3}, {"customer_id": 1}]}
    )
    as_columns = client.post(URL, json={"features": FEATURES, "entities": {"customer_id": [3, 1]}})
    assert as_columns.status_code == 200, as_columns.text
    assert as_columns.json()["features"] == as_rows.json()["features"]
    assert as_columns.json()["features"]["segment"] == ["d", "b"]


def test_full_feature_names(client: TestClient) -> None:
    response = client.post(
        URL,
        json={
            "features": ["profile:income", "cold:income"],
            "entities": [{"customer_id": 1}],
            "full_feature_names": True,
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["features"] == {
        "customer_id": [1],
        "profile__income": [20.0],
        "cold__income": [None],
    }


def test_no_entities_is_an_empty_answer(client: TestClient) -> None:
    response = client.post(URL, json={"features": ["profile:income"], "entities": []})
    assert response.status_code == 200, response.text
    assert response.json()["found"] == []


@pytest.mark.parametrize(
    ("features", "named"),
    [
        (["profile:nope"], "'nope'"),
        (["ghost:income"], "'ghost'"),
        (["income"], "'income'"),
    ],
)
def test_unknown_feature_is_422_naming_it(
    client: TestClient, features: list[str], named: str
) -> None:
    response = client.post(URL, json={"features": features, "entities": [{"customer_id": 1}]})
    assert named in _error(response, 422, "unknown_feature")


def test_same_name_from_two_views_is_422(client: TestClient) -> None:
    response = client.post(
        URL, json={"features": ["profile:income", "cold:income"], "entities": [{"customer_id": 1}]}
    )
    assert "full_feature_names" in _error(response, 422, "invalid_request")


def test_missing_join_key_is_422(client: TestClient) -> None:
    response = client.post(URL, json={"features": FEATURES, "entities": [{"customer": 1}]})
    message = _error(response, 422, "invalid_entities")
    assert "'customer_id'" in message and "missing" in message


@pytest.mark.parametrize("value", ["42", 4.2, True, None, [1], {"id": 1}])
def test_mistyped_join_key_is_422(client: TestClient, value: object) -> None:
    response = client.post(URL, json={"features": FEATURES, "entities": [{"customer_id": value}]})
    message = _error(response, 422, "invalid_entities")
    assert "'customer_id'" in message and "integer" in message


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (b"{not json", "not valid JSON"),
        (b"", "not valid JSON"),
        (b"[1, 2]", "got an array [1,2]"),
        (b'"features"', "got a string"),
        (b"42", "got a number 42"),
        (b"null", "got null"),
        (b'{"entities": [{"customer_id": 1}]}', "missing 'features'"),
        (b'{"features": ["profile:income"]}', "missing 'entities'"),
        (b'{"features": [], "entities": []}', "non-empty array"),
        (b'{"features": "profile:income", "entities": []}', "got a string"),
        (b'{"features": [1], "entities": []}', "features[0]"),
        (b'{"features": ["profile:income"], "entities": 5}', "'entities' must be"),
        (b'{"features": ["profile:income"], "entities": [5]}', "entities[0]"),
        (
            b'{"features": ["profile:income"], "entities": {"customer_id": 5}}',
            "entities['customer_id']",
        ),
        (
            b'{"features": ["profile:income"], "entities": {"customer_id": [1], "x": [1, 2]}}',
            "equal lengths",
        ),
        (
            b'{"features": ["profile:income"], "entities": [], "full_feature_names": "yes"}',
            "full_feature_names",
        ),
        (b'{"features": ["profile:income"], "entity": []}', "Unknown field 'entity'"),
    ],
)
def test_malformed_body_is_422_naming_the_problem(
    client: TestClient, body: bytes, named: str
) -> None:
    response = client.post(URL, content=body, headers={"content-type": "application/json"})
    assert named in _error(response, 422, "invalid_request")


def test_too_many_entities_is_422(client: TestClient) -> None:
    rows = [{"customer_id": i} for i in range(51)]  # the client's app allows 50
    for entities in (rows, {"customer_id": [r["customer_id"] for r in rows]}):
        response = client.post(URL, json={"features": FEATURES, "entities": entities})
        assert "at most 50" in _error(response, 422, "too_many_entities")
    ok = client.post(URL, json={"features": FEATURES, "entities": rows[:50]})
    assert ok.status_code == 200


def test_body_too_large_is_413(client: TestClient) -> None:
    body = orjson.dumps({"features": ["profile:income"] * 10_000, "entities": []})
    response = client.post(URL, content=body)
    assert "at most 64000" in _error(response, 413, "payload_too_large")


def test_counts_are_json_integers(client: TestClient) -> None:
    response = client.post(
        URL, json={"features": ["txn:amount_count_7d"], "entities": {"customer_id": [1, 2, 3]}}
    )
    assert response.json()["features"]["amount_count_7d"] == [2, 1, 0]


def test_default_limit_is_10000_entities() -> None:
    def reader(features: list[str], rows: list[dict[str, Any]], full: bool) -> dict[str, list[Any]]:
        return {"found": [False] * len(rows)}

    client = TestClient(create_app(reader))
    ids = list(range(10_001))
    response = client.post(URL, json={"features": ["v:f"], "entities": {"customer_id": ids}})
    assert "at most 10000" in _error(response, 422, "too_many_entities")
    response = client.post(URL, json={"features": ["v:f"], "entities": {"customer_id": ids[1:]}})
    assert response.status_code == 200 and len(response.json()["found"]) == 10_000


def test_chunked_body_too_large_is_413(client: TestClient) -> None:
    chunks = iter([b'{"features": ["' + b"x" * 40_000, b"x" * 40_000 + b'"]}'])
    response = client.post(URL, content=chunks)
    assert "at most 64000" in _error(response, 413, "payload_too_large")
