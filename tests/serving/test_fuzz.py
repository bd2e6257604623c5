"""Fuzz the published OpenAPI schema (DESIGN §6) with schemathesis: no request, valid or not,
gets a 5xx, and every answer matches the documented statuses, content types and bodies.

Skipped when schemathesis is not installed (a dev-only tool). Its pytest plugin does not run
on pytest 9, so the test drives its Hypothesis strategies directly.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cairn.app.server import build_app
from cairn.serving import ServingLimits
from tests.serving.conftest import Project

schemathesis = pytest.importorskip("schemathesis")

# Schema-valid requests may still name features that do not exist, so a 4xx answer to valid
# data is correct here; every other default check applies.
EXCLUDED = [schemathesis.checks.positive_data_acceptance]


@pytest.fixture(scope="module")
def operation(project: Project) -> Any:
    """``POST /v1/features/online`` of the app ``cairn serve`` builds for the project."""
    app = build_app(project.path, limits=ServingLimits(max_entities=20, max_features=20))
    return schemathesis.openapi.from_asgi("/openapi.json", app)["/v1/features/online"]["POST"]


@pytest.mark.parametrize("mode", ["positive", "negative"])
@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_5xx_and_answers_match_the_schema(
    operation: Any, mode: str, data: st.DataObject
) -> None:
    case = data.draw(operation.as_strategy(schemathesis.GenerationMode(mode)))
    case.call_and_validate(excluded_checks=EXCLUDED)
