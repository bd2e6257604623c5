"""Fuzz the predict, outcome and explanation routes from the published OpenAPI schema: no
request, valid or not, gets a 5xx, and every answer matches its documented status and body."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cairn.serving import ServingLimits
from tests.serving._models import FakeLoader, scoring_model, train_booster
from tests.serving._predict_app import REF, predict_app, store_reader
from tests.serving.conftest import Project

schemathesis = pytest.importorskip("schemathesis")

# Schema-valid bodies may name unknown deployments or entities, so 4xx to valid data is right.
EXCLUDED = [schemathesis.checks.positive_data_acceptance]
ROUTES = [
    ("/v1/predict/{deployment}", "POST"),
    ("/v1/predict/{deployment}/batch", "POST"),
    ("/v1/outcomes", "POST"),
    ("/v1/explanations/{prediction_id}", "GET"),
    ("/v1/deployments/reload", "POST"),
]
NO_NEGATIVE = {"/v1/deployments/reload"}


@pytest.fixture(scope="module")
def schema(project: Project, tmp_path_factory: pytest.TempPathFactory) -> Any:
    loader = FakeLoader({REF: {"1": scoring_model(train_booster(3))}})
    state: Path = tmp_path_factory.mktemp("fuzz")
    limits = ServingLimits(max_entities=20)  # small batches keep generated bodies quick
    app, _ = predict_app(state, store_reader(project.store), loader, admin_token="t", limits=limits)
    return schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.mark.parametrize(
    ("path", "method", "mode"),
    [
        (path, method, mode)
        for path, method in ROUTES
        for mode in ("positive", "negative")
        # a route without a body or a typed parameter has no invalid form to generate
        if not (mode == "negative" and path in NO_NEGATIVE)
    ],
)
@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_5xx_and_answers_match_the_schema(
    schema: Any, path: str, method: str, mode: str, data: st.DataObject
) -> None:
    operation = schema[path][method]
    case = data.draw(operation.as_strategy(schemathesis.GenerationMode(mode)))
    case.call_and_validate(excluded_checks=EXCLUDED)
