"""The suite schema is built from the expectations' declared arguments: it covers every suite
and check key the parser reads, and rejects what the parser rejects."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from cairn.quality import Suite, expectation_names
from cairn.quality.check import CHECK_KEYS
from cairn.quality.params import KIND_SCHEMAS, KINDS
from cairn.quality.schema import suite_schema
from cairn.quality.spec import SUITE_KEYS
from tests._schemas import NUMBERS, accepts, validator

NOT_NULL = {"expect_column_values_to_not_be_null": {"column": "id"}}


def _parse(data: Any) -> object:
    return Suite.from_dict(data, origin="quality/s.yaml")


def _suite(*checks: Any, **keys: Any) -> dict[str, Any]:
    return {"name": "s", **keys, "expectations": list(checks)}


def test_the_schema_covers_every_key_kind_and_expectation() -> None:
    schema = suite_schema()
    assert set(schema["properties"]) == set(SUITE_KEYS)
    assert set(KIND_SCHEMAS) == set(KINDS)
    assert set(schema["$defs"]) == set(expectation_names())
    short = schema["properties"]["expectations"]["items"]["anyOf"][0]
    assert set(CHECK_KEYS) <= set(short["properties"])


@pytest.mark.parametrize(
    "doc",
    [
        _suite(NOT_NULL, sample_rows=-1),
        _suite(NOT_NULL, sample_rows="20"),
        _suite(NOT_NULL, colour="red"),
        _suite(NOT_NULL, actions={"urgent": "halt"}),
        _suite(NOT_NULL, references={"t": 1}),
        _suite({"expect_column_values_to_not_be_nul": {"column": "id"}}),
        _suite({"expect_column_values_to_not_be_null": {}}),
        _suite({"expect_column_values_to_not_be_null": {"column": "id", "mostly": 2}}),
        _suite({"expect_column_values_to_not_be_null": {"column": "id", "severity": "awful"}}),
        _suite({"expect_column_values_to_not_be_null": {"column": "id", "colum": "x"}}),
        _suite({"type": "expect_column_values_to_not_be_null", "kwargs": {"column": ""}}),
        _suite({"expect_column_values_to_be_in_set": {"column": "id", "value_set": 1}}),
        _suite({"expect_data_to_be_fresh": {"column": "t", "max_age": "soon"}}),
        _suite({"expect_column_psi_to_be_less_than": {"column": "x", "reference": "r.json",
                                                      "threshold": 0}}),
        {"expectations": "none"},
    ],
)  # fmt: skip
def test_the_schema_rejects_what_the_parser_rejects(doc: Any) -> None:
    assert not accepts(_parse, doc)
    assert not validator("quality").is_valid(doc)


def test_the_templates_are_valid() -> None:
    from cairn.quickstart.blank._templates import SUITE_YAML
    from cairn.quickstart.example.suites import SUITES

    for text in (SUITE_YAML, *SUITES.values()):
        doc = yaml.safe_load(text)
        assert accepts(_parse, doc) and validator("quality").is_valid(doc)


@given(value=st.one_of(st.sampled_from(NUMBERS), st.floats(-2, 2), st.integers(-2, 2)))
def test_mostly_and_sample_rows_agree_with_the_schema(value: Any) -> None:
    mostly = _suite({"expect_column_values_to_not_be_null": {"column": "id", "mostly": value}})
    assert accepts(_parse, mostly) == validator("quality").is_valid(mostly), mostly
    if not (isinstance(value, float) and value.is_integer()):
        rows = _suite(NOT_NULL, sample_rows=value)
        assert accepts(_parse, rows) == validator("quality").is_valid(rows), rows
