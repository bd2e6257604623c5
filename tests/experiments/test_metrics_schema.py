"""experiments.yaml's JSON Schema comes from the model that parses it."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from cairn.experiments.metrics import MetricCatalog
from tests._schemas import NUMBERS, accepts, validator

NEW = {"type": "proportion", "sql": "score >= 0.3"}


def _parse(data: Any) -> object:
    return MetricCatalog.from_mapping(data)


@pytest.mark.parametrize(
    "doc",
    [
        {"metric": {}},
        {"min_completeness": 0},
        {"min_completeness": 1.5},
        {"min_completeness": "high"},
        {"metrics": [1]},
        {"metrics": {"1bad": NEW}},
        {"metrics": {"m": {**NEW, "type": "median"}}},
        {"metrics": {"m": {**NEW, "maturity": "soon"}}},
        {"metrics": {"m": {**NEW, "guardrail": "yes"}}},
        {"metrics": {"m": {**NEW, "direction": "up"}}},
        {"metrics": {"m": {**NEW, "unit_aggregate": "median"}}},
        {"metrics": {"m": {**NEW, "colour": "red"}}},
        {"metrics": {"m": "score"}},
    ],
)
def test_the_schema_rejects_what_the_parser_rejects(doc: Any) -> None:
    assert not accepts(_parse, doc)
    assert not validator("experiments").is_valid(doc)


def test_the_templates_are_valid() -> None:
    from cairn.quickstart.blank._templates import EXPERIMENTS_YAML
    from cairn.quickstart.blank.project import metric_comments
    from cairn.quickstart.experiment_demo import EXAMPLE_EXPERIMENTS

    blank = EXPERIMENTS_YAML.replace("<<metrics>>", metric_comments())
    for text in (EXAMPLE_EXPERIMENTS, blank):
        doc = yaml.safe_load(text)
        assert accepts(_parse, doc) and validator("experiments").is_valid(doc)


@given(value=st.one_of(st.sampled_from(NUMBERS), st.floats(-2, 2), st.integers(-2, 2)))
def test_min_completeness_agrees_with_the_schema(value: Any) -> None:
    doc = {"min_completeness": value}
    assert accepts(_parse, doc) == validator("experiments").is_valid(doc), doc
