"""The published OpenAPI schema describes the routes and the request body."""

from __future__ import annotations

from tests.serving._client import TestClient


def test_openapi_lists_the_routes(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    assert {"/v1/features/online", "/healthz", "/readyz", "/metrics"} <= set(schema["paths"])
    post = schema["paths"]["/v1/features/online"]["post"]
    body = post["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["features", "entities"]
    assert body["properties"]["entities"]["oneOf"][0]["maxItems"] == 50
    assert {"200", "413", "422", "503"} <= set(post["responses"])


def test_interactive_docs_are_off(client: TestClient) -> None:
    # Swagger UI and ReDoc load scripts from a CDN; only the schema is served.
    assert client.get("/docs").status_code == 404
